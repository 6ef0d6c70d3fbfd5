-- bench/redis.sh's gateway: one app counting in the node's shared dict, one
-- in Redis, with caps that never bind (so every call goes the whole way).
local bench_book = { base = "2020", name = "bench",
                     editions = { flagship = { limits = { daily_net_groups = "unlimited" } } } }
return {
  dict = "imbill", meta = "imbill_meta", replay = "imbill_replay", journal = "imbill_journal",
  redis = { main = { servers = { "127.0.0.1:@REDIS@" } } },
  apps = {
    ["1400000099"] = { book = bench_book, edition = "flagship", token = "bench-token" },
    ["1400000098"] = { book = bench_book, edition = "flagship", token = "bench-token", redis = "main" },
  },
}
