-- The example gateway's configuration: what imbill.gateway.setup() takes.
-- docs/gateway.md, "Configuration", describes every field.
return {
  dict = "imbill",           -- lua_shared_dict holding the counts
  meta = "imbill_meta",      -- locks, counters for the status page, the damage mark
  replay = "imbill_replay",  -- callbacks seen lately (replay protection)
  unknown_app = "refuse",    -- a REST call for an SDKAppID not listed here: "refuse" or "pass"
  window = 60,               -- callbacks older than this many seconds are rejected
  apps = {
    -- SDKAppID = { price book, edition, ... }
    ["1400000001"] = {
      name = "demo",
      book = "2021", edition = "pro", -- at most 50 AVChatRoom groups at a time, 200 members per group
      addons = {},                    -- add-ons bought for the edition, by id
      tz = "+08:00",                  -- billing days in UTC+08:00
      token = "xxxxyyyy",             -- the callback token set in Tencent's console
      failure = "closed",             -- when the store cannot decide: refuse capped calls ("open": pass them)
      reservation_ttl = 30,           -- seconds an approved "before" callback waits for its "after"
      codes = { group = { av_groups = 10150 } }, -- custom codes for "before" callbacks (10100-10200)
    },
    ["1400000002"] = { name = "trial app", book = "2020", edition = "trial", token = "trial-token" },
    -- for bench/gateway.sh: caps that never bind, so every call goes the whole way
    ["1400000099"] = {
      name = "bench",
      book = { base = "2020", name = "bench", editions = { flagship = { limits = { daily_net_groups = "unlimited" } } } },
      edition = "flagship", token = "bench-token",
    },
  },
}
