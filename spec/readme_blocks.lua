--- The Lua snippets of the README and docs/*.md, and the output each one
-- prints.  A ```lua block is a complete script; the ``` (or ```text) block
-- right after it (blank lines between are allowed) is exactly what it prints.
-- An HTML comment <!-- no-run --> on the line before a ```lua block marks a
-- snippet that cannot run here (it needs nginx, say); it has no output block.
--
-- Used by spec/readme_spec.lua (which runs every block on the runtime running
-- the specs) and by scripts/readme-outputs.lua (which writes the outputs in).
local R = {}

local function lines_of(text)
  local out = {}
  for line in (text .. (text:sub(-1) == "\n" and "" or "\n")):gmatch("([^\n]*)\n") do out[#out + 1] = line end
  return out
end
R.lines_of = lines_of

--- The blocks of a Markdown text: { line = (1-based line of the ```lua
-- fence), code = text, skip = true or nil, output = { first = line, last =
-- line, text = } or nil, problem = text or nil }.
-- The fenced block that opens at line i, if one does: its info word and the
-- line of its closing fence (a fence of the same length; past the end when
-- the block is never closed).
local function fenced(L, i)
  local fence, info = (L[i] or ""):match("^(```+)%s*([%w_+-]*)%s*$")
  if not fence then return nil end
  local j = i + 1
  while j <= #L and L[j] ~= fence do j = j + 1 end
  return info, j
end

function R.blocks(text)
  local L = lines_of(text)
  local blocks = {}
  local i = 1
  while i <= #L do
    local info, j = fenced(L, i)
    if info then
      if info == "lua" then
        local b = { line = i, code = table.concat(L, "\n", i + 1, j - 1) .. "\n" }
        local k = i - 1
        while k >= 1 and L[k]:match("^%s*$") do k = k - 1 end
        if k >= 1 and L[k]:match("^%s*<!%-%-%s*no%-run%s*%-%->%s*$") then b.skip = true end
        if j > #L then b.problem = "the block is never closed" end
        -- its output block
        local o = j + 1
        while o <= #L and L[o]:match("^%s*$") do o = o + 1 end
        local oinfo, e = fenced(L, o)
        if oinfo == "" or oinfo == "text" then
          b.output = { first = o, last = e, text = e - 1 >= o + 1 and (table.concat(L, "\n", o + 1, e - 1) .. "\n") or "" }
          j = e
        elseif not b.skip and not b.problem then
          b.problem = "no output block after it: follow it with a ``` block holding what it prints,"
            .. " or mark it <!-- no-run --> on the line before"
        end
        blocks[#blocks + 1] = b
      end
      i = j + 1
    else
      i = i + 1
    end
  end
  return blocks
end

--- The imbill commands a Markdown text shows as a session: in a plain ```
-- (or ```text, ```console) block, a line `$ imbill ARGS` or `$ bin/imbill ARGS`
-- and, up to the next `$ ` line or the block's end, what it prints.  A last
-- line `...` (indented or not) means the block shows only the output's first
-- lines.  Returns { line = (1-based line of the command), args = text,
-- expected = text, prefix = true or nil }.
function R.commands(text)
  local L = lines_of(text)
  local out = {}
  local i = 1
  while i <= #L do
    local info, j = fenced(L, i)
    if info then
      if info == "" or info == "text" or info == "console" then
        local cur
        for k = i + 1, j - 1 do
          local line = L[k]
          if line:match("^%$ ") then
            local args = line:match("^%$ imbill (.*)$") or line:match("^%$ bin/imbill (.*)$")
            cur = args and { line = k, args = args, out = {} } or nil
            if cur then out[#out + 1] = cur end
          elseif cur then
            cur.out[#cur.out + 1] = line
          end
        end
      end
      i = j + 1
    else
      i = i + 1
    end
  end
  for _, c in ipairs(out) do
    while #c.out > 0 and c.out[#c.out]:match("^%s*$") do c.out[#c.out] = nil end
    if #c.out > 0 and c.out[#c.out]:match("^%s*%.%.%.$") then
      c.out[#c.out] = nil
      c.prefix = true
    end
    c.expected = #c.out > 0 and (table.concat(c.out, "\n") .. "\n") or ""
    c.out = nil
  end
  return out
end

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("*a")
  f:close()
  return s
end

--- Runs a block's code as a script from the top of the repository, under the
-- interpreter `lua` with the module built in `cpath`.  Returns its standard
-- output, its standard error and whether it exited with 0.
function R.run(code, o)
  local script = os.tmpname()
  local out, err = os.tmpname(), os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(code)
  f:close()
  local cmd = string.format("cd %s && LUA_PATH=%s LUA_CPATH=%s timeout %d %s %s >%s 2>%s; echo $? >>%s", q(o.top),
    q(o.top .. "/lua/?.lua;" .. o.top .. "/lua/?/init.lua;;"), q(o.cpath .. "/?.so;;"), o.timeout or 120, q(o.lua),
    q(script), q(out), q(err), q(err))
  os.execute(cmd)
  local stdout, stderr = slurp(out), slurp(err)
  os.remove(script)
  os.remove(out)
  os.remove(err)
  local rc = stderr:match("(%d+)\n$")
  stderr = stderr:gsub("%d+\n$", "")
  return stdout, stderr, rc == "0"
end

--- Runs `imbill ARGS` from the top of the repository, under the interpreter
-- `lua` with the module built in `cpath`; returns what it prints (standard
-- output, then standard error) and whether it exited with 0.
function R.command(args, o)
  local out = os.tmpname()
  local cmd = string.format("cd %s && LUA_PATH=%s LUA_CPATH=%s IMBILL_PROGRESS=never timeout %d %s bin/imbill %s >%s 2>&1;"
    .. " echo $? >%s.rc", q(o.top), q(o.top .. "/lua/?.lua;" .. o.top .. "/lua/?/init.lua;;"), q(o.cpath .. "/?.so;;"),
    o.timeout or 120, q(o.lua), args, q(out), q(out))
  os.execute(cmd)
  local printed, rc = slurp(out), slurp(out .. ".rc")
  os.remove(out)
  os.remove(out .. ".rc")
  return printed, rc:match("^(%d+)") == "0"
end

--- nil when the output is as expected, else a message naming the first line
-- that differs (lines counted in the output block, and in the file).
function R.compare(expected, actual, first_line)
  if expected == actual then return nil end
  local e, a = lines_of(expected), lines_of(actual)
  if expected == "" then e = {} end
  if actual == "" then a = {} end
  for k = 1, math.max(#e, #a) do
    if e[k] ~= a[k] then
      local where = string.format("output line %d (file line %d)", k, first_line + k)
      if e[k] == nil then
        return string.format("%s: the snippet prints more than the block shows: %q", where, a[k])
      elseif a[k] == nil then
        return string.format("%s: the snippet stops printing here; the block expects %q", where, e[k])
      end
      return string.format("%s differs:\n  expected: %s\n  printed:  %s", where, e[k], a[k])
    end
  end
  -- same lines, different line ends
  return "the output differs only in its last line break"
end

return R
