std = "max"
max_line_length = 130
include_files = { "lua", "spec", "examples/**.lua", "bench/**.lua", "scripts", "bin", "*.rockspec", ".luacheckrc" }
files["spec/**"] = { std = "+busted" }
files["lua/imbill/ffi.lua"] = { std = "luajit" }
files["spec/nginx/**"] = { std = "ngx_lua+busted" }
files["lua/imbill/gateway/**"] = { std = "ngx_lua" }
