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
local function config_env()
  return { os = { getenv = os.getenv }, string = copy(string), math = copy(math), table = copy(table),
           tonumber = tonumber, tostring = tostring, pairs = pairs, ipairs = ipairs, type = type }
end

-- A configuration is a table written out: far fewer steps than this.  A
-- file that loops is stopped, where it hung the command.
local CONFIG_STEPS = 10000000

-- The configuration file as data: a chunk that returns a table.
local function config_file(path)
  local text = input.read("--config", path, input.MAX_JSON)
  local chunk, err = load(text, "=" .. path, "t", config_env())
  if not chunk then fail.input("--config", "not a Lua configuration: " .. tostring(err), path) end
  -- compiled code runs no count hook: the file runs interpreted
  local jit = rawget(_G, "jit")
  if jit then jit.off(chunk, true) end
  local too_long = false
  local hook, mask, count = debug.gethook()
  debug.sethook(function()
    too_long = true
    error("ran more than " .. CONFIG_STEPS .. " steps", 0)
  end, "", CONFIG_STEPS)
  local ok, t = pcall(chunk)
  if hook then debug.sethook(hook, mask, count) else debug.sethook() end
  if too_long then ok, t = false, "ran more than " .. CONFIG_STEPS .. " steps (a configuration is a table)" end
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
  if (args.url == nil) == (args.config == nil) then
    fail.usage(nil, "give --url (a gateway's usage location) or --config (its configuration, to read Redis)")
  end
  if args.app == nil then fail.usage(nil, "--app is required") end
  if args.month == nil then fail.usage(nil, "--month is required") end
  local u
  if args.url then
    fail.need "socket"
    fail.need "dkjson"
    u = require("imbill.gateway.fetch").usage(args.url, args.app, args.month)
  else
    u = from_redis(args.config, args.app, args.month)
  end
  invoice_cmd.show(args, require("imbill").invoice(u))
  return 0
end

return M
