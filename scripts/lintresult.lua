-- Turns luacheck's exit into a one-test report the tally can count.
local json = require "dkjson"
local f = io.open(arg[1], "rb")
local text = f and f:read("a") or ""
if f then f:close() end
local warnings = tonumber(text:match("Total: (%d+) warning")) or 0
local errors = tonumber(text:match("(%d+) error")) or 0
local ok = warnings == 0 and errors == 0 and text:find("Total:", 1, true) ~= nil
local doc = { successes = {}, failures = {} }
local t = { name = "luacheck: lua, spec, examples, bench, scripts, bin are clean", message = text }
table.insert(ok and doc.successes or doc.failures, t)
local out = assert(io.open(arg[2], "wb"))
out:write(json.encode(doc))
out:close()
