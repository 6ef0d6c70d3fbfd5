-- Runs the imbill command in a fresh process, for the CLI specs.
local H = require "helper"

local R = {}
R.top = H.top

function R.quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function slurp(p)
  local f = io.open(p, "rb")
  if not f then return nil end
  local t = f:read("*a")
  f:close()
  os.remove(p)
  return t
end
R.slurp = slurp

local function code_of(a, _, c)
  return type(a) == "number" and math.floor(a / 256) or c
end

--- run(args [, { env =, stdin = file, stdout = file }]) -> exit code, stdout, stderr.
-- args is shell text (quote values with R.quote).  With opts.stdout the output
-- goes to that file and the returned stdout is nil.
function R.run(args, opts)
  opts = opts or {}
  local out, err = opts.stdout or os.tmpname(), os.tmpname()
  local cmd = string.format("cd %s && %s lua5.4 bin/imbill %s %s >%s 2>%s", R.quote(R.top), opts.env or "", args,
    opts.stdin and ("<" .. R.quote(opts.stdin)) or "", R.quote(out), R.quote(err))
  local code = code_of(os.execute(cmd))
  return code, (not opts.stdout) and slurp(out) or nil, slurp(err)
end

--- The same through /usr/bin/python3, which can hand the command a pipe whose
-- reader is gone (SIGPIPE ignored, as Python leaves it, so writes fail with
-- EPIPE) or a directory as standard input.  how: "closed_pipe" or "dir_stdin:PATH".
function R.run_py(args, how)
  local err = os.tmpname()
  local script = [[
import os, subprocess, sys
top, how, err, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
kw = {}
if how == "closed_pipe":
    r, w = os.pipe()
    os.close(r)
    kw["stdout"] = w
elif how.startswith("dir_stdin:"):
    kw["stdin"] = os.open(how[len("dir_stdin:"):], os.O_RDONLY)
    kw["stdout"] = subprocess.DEVNULL
with open(err, "wb") as e:
    p = subprocess.run(["lua5.4", "bin/imbill"] + args, cwd=top, stderr=e, restore_signals=False, **kw)
sys.exit(p.returncode if p.returncode >= 0 else 128 - p.returncode)
]]
  local cmd = string.format("/usr/bin/python3 -c %s %s %s %s %s", R.quote(script), R.quote(R.top), R.quote(how),
    R.quote(err), args)
  local code = code_of(os.execute(cmd))
  return code, slurp(err)
end

--- A fresh temporary directory.
function R.tmpdir()
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute("mkdir " .. R.quote(d)))
  return d
end

function R.rm(path) os.execute("rm -rf " .. R.quote(path)) end

function R.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

function R.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local t = f:read("*a")
  f:close()
  return t
end

--- The names in a directory.
function R.ls(dir)
  local p = io.popen("ls -A " .. R.quote(dir))
  local names = {}
  for l in p:lines() do names[#names + 1] = l end
  p:close()
  table.sort(names)
  return names
end

return R
