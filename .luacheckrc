std = "max"
max_line_length = 130
-- Lua sources only: examples/ and bench/ also hold CSV, JSON lines, shell and C.
include_files = { "lua/**/*.lua", "spec/**/*.lua", "examples/**/*.lua", "bench/**/*.lua", "scripts/*.lua",
                  "fuzz/**/*.lua", "bin/imbill", "*.rockspec", ".luacheckrc" }
files["spec/**"] = { std = "+busted" }
files["lua/imbill/ffi/**"] = { std = "luajit" }
files["spec/nginx/**"] = { std = "ngx_lua+busted" }
files["lua/imbill/gateway/**"] = { std = "ngx_lua" }
