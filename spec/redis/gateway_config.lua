-- The gateway configuration of the Redis specs' two nginx nodes
-- (scripts/redis-specs.sh fills the ports).
return {
  dict = "imbill", meta = "imbill_meta", replay = "imbill_replay", journal = "imbill_journal",
  unknown_app = "refuse",
  window = 60,
  redis = {
    main = { servers = { "127.0.0.1:@REDIS@" }, timeout = 0.3, deadline = 1.0, flush_interval = 0.05 },
    cluster = { servers = { "@C1@", "@C2@", "@C3@" }, cluster = true, timeout = 0.3, deadline = 1.2 },
    -- the same Redis, with login batches as large as the configuration allows
    bulk = { servers = { "127.0.0.1:@REDIS@" }, flush_batch = 100000, flush_interval = 3600 },
    -- the same Redis as two ACL users (scripts/redis-specs.sh starts it with
    -- them; acl_redis.lua): one that may use only its app's keys, one that
    -- may only read.  Short deadlines: every node's sweep visits them too.
    own_user = { servers = { "127.0.0.1:@REDIS@" }, username = "imbill_own", password = "own-secret",
                 timeout = 0.3, deadline = 1.0, background_deadline = 1.0 },
    read_only = { servers = { "127.0.0.1:@REDIS@" }, username = "imbill_ro", password = "ro-secret",
                  timeout = 0.3, deadline = 1.0, background_deadline = 1.0 },
  },
  apps = {
    -- 2020 pro: at most 50 AVChatRoom groups
    ["1400000001"] = { book = "2020", edition = "pro", token = "spec-token-pro", reservation_ttl = 2, redis = "main",
                       codes = { group = { av_groups = 10150 } } },
    -- 2020 trial: at most 100 accounts, 100 groups, 20 friends, 20 members
    ["1400000002"] = { book = "2020", edition = "trial", token = "spec-token-trial", reservation_ttl = 2,
                       redis = "main", buckets = 64 },
    -- the same, failing open
    ["1400000003"] = { book = "2020", edition = "pro", token = "spec-token-open", redis = "main", failure = "open",
                       reservation_ttl = 2 },
    ["1400000013"] = { book = "2020", edition = "trial", redis = "main", failure = "open" },
    -- the example app's book, for the invoice
    ["1400000004"] = { book = "2021", edition = "pro", tz = "+08:00", token = "xxxxyyyy", redis = "main" },
    -- hand-built plans
    ["1400000006"] = { book = "2020", edition = "pro", redis = "main", buckets = 16 },
    -- one bucket, on the Redis entry with large login batches
    ["1400000007"] = { book = "2020", edition = "pro", tz = "+00:00", redis = "bulk", buckets = 1 },
    -- on the cluster
    ["1400000011"] = { book = "2020", edition = "pro", token = "spec-token-pro", redis = "cluster",
                       reservation_ttl = 2 },
    ["1400000012"] = { book = "2020", edition = "trial", redis = "cluster" },
    -- one more on the cluster (another slot)
    ["1400000014"] = { book = "2021", edition = "pro", tz = "+08:00", token = "xxxxyyyy", redis = "cluster" },
    -- as the ACL users above
    ["1400000016"] = { book = "2020", edition = "trial", redis = "own_user" },
    ["1400000017"] = { book = "2020", edition = "trial", redis = "read_only" },
    -- on the node's own dict, as before
    ["1400000021"] = { book = "2020", edition = "pro" },
  },
}
