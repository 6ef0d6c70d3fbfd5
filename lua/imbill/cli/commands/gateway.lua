--- imbill gateway: an app's month as a gateway counted it, invoiced.  Read
-- from the gateway's usage location over HTTP (a shared dict lives inside
-- nginx only), or from the app's Redis with the gateway's own configuration
-- file (a fleet's counts live there, whichever node took the calls).
local A = require "imbill.cli.args"
local fail = require "imbill.cli.fail"
local input = require "imbill.cli.input"
local invoice_cmd = require "imbill.cli.commands.invoice"

local M = {}

M.summary = "An app's month as a gateway counted it: from its usage location or its Redis."
M.epilog = [[
Example:
  imbill gateway --url http://127.0.0.1:18480/imbill/usage --app 1400000001 --month 2026-12
  luajit bin/imbill gateway --config gateway.lua --app 1400000001 --month 2026-12 --json

--config reads the file nginx's setup() takes (a Lua file returning the table)
as data: it sees os.getenv, string, math and table, nothing else.  Reading
Redis needs LuaJIT (the gateway's own Redis client and core).]]

function M.define(c)
  c:option("--url", "The gateway's usage location, e.g. http://127.0.0.1:18480/imbill/usage.")
  c:option("--config", "The gateway's configuration file: read the app's month from its Redis.")
  c:option("--app", "The app's SDKAppID."):args(1)
  c:option("--month", "The month, YYYY-MM."):convert(A.month("--month"))
  A.add_format(c)
end

-- What a configuration file may use: its own table and text, and the
-- environment (a Redis password kept out of the file).  Nothing else of the
-- machine: the command reads the file as data.
-- The libraries are copies: the file gets their functions, never the tables
-- the command itself calls through (`string.format = ...` in the file would
-- otherwise rewrite the figures the command prints).
local function copy(lib)
  local t = {}
  for k, v in pairs(lib) do t[k] = v end
  return t
end

-- A configuration is a table written out: far fewer steps than this.  A
-- file that loops is stopped, where it hung the command.
local CONFIG_STEPS = 10000000

-- Nor does one need more memory than this while it runs (in KiB, as
-- collectgarbage("count") says): `string.rep("x", 2^30)` in the file took a
-- gigabyte, where the step limit never saw the one call.
local CONFIG_KIB = 64 * 1024

local function too_big() error({ too_big = true }, 0) end

-- The library calls that build a large string in one step check the size
-- first: the hook runs between the file's instructions, never inside one.
-- left() is what the file may still allocate, in bytes.
local function bounded_string(left)
  local s = copy(string)
  local rep, gsub, find = string.rep, string.gsub, string.find
  function s.rep(str, n, sep)
    local len, count, slen = #tostring(str), tonumber(n) or 0, sep and #tostring(sep) or 0
    if count > 0 and len * count + slen * (count - 1) > left() then too_big() end
    return rep(str, n, sep)
  end
  function s.gsub(str, pat, repl, n)
    str = tostring(str)
    if type(repl) == "table" then
      -- as a function, each value goes through the file's own (hooked) code
      local t = repl
      repl = function(k) return t[k] end
    elseif type(repl) == "string" or type(repl) == "number" then
      -- each match at most adds the replacement, and its captures (%0-%9) at most the subject each
      local r = tostring(repl)
      local _, matches = gsub(str, pat, "", n)
      local _, refs = gsub(r, "%%%d", "")
      if #str + matches * (#r + refs * #str) > left() then too_big() end
    end
    return gsub(str, pat, repl, n)
  end
  s.find = find
  return s
end

local function bounded_table(left)
  local t = copy(table)
  local concat = table.concat
  function t.concat(list, sep, i, j)
    local total, slen = 0, sep and #tostring(sep) or 0
    for k = i or 1, j or #list do
      local v = list[k]
      if type(v) == "string" or type(v) == "number" then total = total + #tostring(v) + slen end
      if total > left() then too_big() end
    end
    return concat(list, sep, i, j)
  end
  return t
end

local function config_env(left)
  return { os = { getenv = os.getenv }, string = bounded_string(left), math = copy(math), table = bounded_table(left),
           tonumber = tonumber, tostring = tostring, pairs = pairs, ipairs = ipairs, type = type }
end

-- The configuration file as data: a chunk that returns a table.
local function config_file(path)
  local text = input.read("--config", path, input.MAX_JSON)
  local limit
  local function left() return (limit - collectgarbage("count")) * 1024 end
  local env = config_env(left)
  local chunk, err = load(text, "=" .. path, "t", env)
  if not chunk then fail.input("--config", "not a Lua configuration: " .. tostring(err), path) end
  -- compiled code runs no count hook: the file runs interpreted
  local jit = rawget(_G, "jit")
  if jit then jit.off(chunk, true) end
  -- ("x"):rep(n) finds rep through the strings' metatable, not the file's
  -- string table: the metatable lends the file's table while it runs
  local smeta = getmetatable("")
  local sindex = smeta.__index
  collectgarbage()
  limit = collectgarbage("count") + CONFIG_KIB
  local stop
  local steps = 0
  local hook, mask, count = debug.gethook()
  -- every instruction: one step can at most double a string (s = s .. s)
  debug.sethook(function()
    steps = steps + 1
    if steps > CONFIG_STEPS then stop = "steps" elseif collectgarbage("count") > limit then stop = "memory" end
    if stop then
      debug.sethook()
      error(stop, 0)
    end
  end, "", 1)
  smeta.__index = env.string
  local ok, t = pcall(chunk)
  smeta.__index = sindex
  if hook then debug.sethook(hook, mask, count) else debug.sethook() end
  if type(t) == "table" and not ok and t.too_big then stop = "memory" end
  if stop then
    -- what the file built is let go before the command goes on
    ok, t = false, nil
    for k in pairs(env) do env[k] = nil end
    collectgarbage()
  end
  if stop == "steps" then t = "ran more than " .. CONFIG_STEPS .. " steps (a configuration is a table)" end
  if stop == "memory" then
    t = string.format("needed more than %d MiB (a configuration is a table)", math.floor(CONFIG_KIB / 1024))
  end
  if not ok then fail.input("--config", "did not run as data: " .. tostring(t), path) end
  if type(t) ~= "table" then fail.input("--config", "returns no table", path) end
  return t
end

local function from_redis(path, app, month)
  if not rawget(_G, "jit") then
    fail.unavailable("--config reads Redis with the gateway's client, which needs LuaJIT: run `luajit "
      .. (arg and arg[0] or "bin/imbill") .. " gateway ...`")
  end
  local raw = config_file(path)
  local cfg = require("imbill.gateway.config").check(raw)
  local a = cfg.apps[app]
  if not a then fail.input("--app", "is not an app of " .. path, app) end
  if not a.redis then
    fail.input("--app", "counts in the gateway's shared dict, not in Redis: read it with --url", app)
  end
  return require("imbill.gateway.usage").from_redis(raw.redis[a.redis], a, month)
end

function M.run(args)
  if args.url ~= nil and args.config ~= nil then
    fail.usage(nil, "--url and --config cannot be used together: give --url (a gateway's usage location) or --config"
      .. " (its configuration, to read Redis), not both")
  end
  if args.url == nil and args.config == nil then
    fail.usage(nil, "give --url (a gateway's usage location) or --config (its configuration, to read Redis)")
  end
  if args.app == nil then fail.usage(nil, "--app is required") end
  if args.month == nil then fail.usage(nil, "--month is required") end
  local u
  if args.url then
    fail.need "socket"
    fail.need "dkjson"
    u = fail.calling("imbill.gateway.fetch", fail.flag_names(args, { url = true, app = true, month = true }),
      require("imbill.gateway.fetch").usage, args.url, args.app, args.month)
  else
    u = from_redis(args.config, args.app, args.month)
  end
  invoice_cmd.show(args, require("imbill").invoice(u))
  return 0
end

return M
