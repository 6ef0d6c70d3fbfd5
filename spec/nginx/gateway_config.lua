-- The gateway configuration of the specs' nginx.
return {
  dict = "imbill", meta = "imbill_meta", replay = "imbill_replay",
  unknown_app = "refuse",
  window = 60,
  apps = {
    -- 2020 pro: at most 50 AVChatRoom groups
    ["1400000001"] = { book = "2020", edition = "pro", token = "spec-token-pro", reservation_ttl = 2,
                       codes = { group = { av_groups = 10150 }, friend = { friends_per_user = 38500 } } },
    -- 2020 trial: at most 100 accounts, 100 groups, 20 friends, 20 members
    ["1400000002"] = { book = "2020", edition = "trial", token = "spec-token-trial", reservation_ttl = 2 },
    -- no callback token; fails open
    ["1400000003"] = { book = "2020", edition = "trial", failure = "open" },
    -- the example app: fresh counts for the walkthrough
    ["1400000004"] = { book = "2021", edition = "pro", tz = "+08:00", token = "xxxxyyyy" },
    -- hand-built plans
    ["1400000006"] = { book = "2020", edition = "pro" },
    -- a deliberately small dict
    ["1400000009"] = { book = "2020", edition = "trial", dict = "imbill_small", unsigned_callbacks = true },
    ["1400000010"] = { book = "2020", edition = "trial", dict = "imbill_small", failure = "open" },
    -- a user's price book (derived from 2020), for equality_ngx.lua
    ["1400000016"] = { book = { base = "2020", name = "resold",
                                editions = { flagship = { limits = { daily_net_groups = "unlimited" } } } },
                       edition = "flagship" },
    -- on a dict reload_ngx.lua resizes
    ["1400000015"] = { book = "2020", edition = "trial", dict = "imbill_reload" },
    -- for measuring bytes per user, group, membership (a dict of its own)
    ["1400000008"] = { book = "2020", edition = "flagship", dict = "imbill_sizing" },
    -- 2020 pro, first activated 2021-03-10: no month before it can be billed
    ["1400000017"] = { book = "2020", edition = "pro", activated = "2021-03-10" },
    -- 2020 flagship: 200 members in a Private (Work) group, 2,000 in a Public or ChatRoom (member_caps_ngx.lua)
    ["1400000019"] = { book = "2020", edition = "flagship", token = "spec-token-flagship" },
    -- 2022 developer: daily net groups 100
    ["1400000005"] = { book = "2022", edition = "developer", token = "spec-token-dev" },
  },
}
