-- The README runs as written (issue 13): every ```lua block of README.md and
-- docs/*.md is a complete script, run here on the runtime running the specs,
-- and prints exactly the ``` block that follows it.  A failure names the file,
-- the block, and the first line that differs.  Blocks marked <!-- no-run -->
-- (they need something this machine does not run) are listed as pending.
-- The imbill commands shown as a session (`$ imbill ARGS` and what follows it
-- in a ``` block) run too, and print exactly what the block shows.
local H = require "helper"
local R = require "readme_blocks"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function docs()
  local files = { "README.md" }
  local p = io.popen("cd '" .. H.top .. "' && ls docs/*.md 2>/dev/null")
  for line in p:lines() do files[#files + 1] = line end
  p:close()
  return files
end

describe("README and docs snippets", function()
  for _, file in ipairs(docs()) do
    local blocks = R.blocks(read(H.top .. "/" .. file))
    for n, b in ipairs(blocks) do
      local name = string.format("%s block %d (```lua at line %d)", file, n, b.line)
      if b.skip then
        it(name .. " is marked no-run", function() pending("marked <!-- no-run -->") end)
      else
        it(name .. " prints its output block", function()
          assert(not b.problem, name .. ": " .. tostring(b.problem))
          local out, err, ok = R.run(b.code, { top = H.top, lua = H.lua, cpath = H.cpath })
          assert(ok, string.format("%s: the snippet failed under %s:\n%s", name, H.lua, err))
          local diff = R.compare(b.output.text, out, b.output.first)
          assert(diff == nil, string.format("%s, output block at line %d: %s", name, b.output.first, tostring(diff)))
        end)
      end
    end
  end

  -- the imbill commands the docs show with their output (`$ imbill ...`); one
  -- that reads a running gateway (--url) needs nginx, and is listed as pending
  for _, file in ipairs(docs()) do
    for _, c in ipairs(R.commands(read(H.top .. "/" .. file))) do
      local name = string.format("%s line %d: imbill %s", file, c.line, c.args)
      if c.args:match("%-%-url") then
        it(name, function() pending("reads a running gateway (examples/nginx/start.sh)") end)
      else
        it(name .. " prints what the block shows", function()
          local out, ok = R.command(c.args, { top = H.top, lua = H.lua, cpath = H.cpath })
          assert(ok, string.format("%s: exited with an error:\n%s", name, out))
          if c.prefix then out = out:sub(1, #c.expected) end
          local diff = R.compare(c.expected, out, c.line)
          assert(diff == nil, string.format("%s: %s", name, tostring(diff)))
        end)
      end
    end
  end

  it("finds the commands of a session block and what each prints", function()
    local text = table.concat({
      "```", "$ imbill invoice --x", "line 1", "line 2", "", "$ curl -s localhost", "{}",
      "$ bin/imbill grid", "a", "  ...", "```", "```lua", "$ imbill no", "```",
    }, "\n") .. "\n"
    local c = R.commands(text)
    assert.equal(2, #c)
    assert.same({ line = 2, args = "invoice --x", expected = "line 1\nline 2\n" }, c[1])
    assert.same({ line = 8, args = "grid", expected = "a\n", prefix = true }, c[2])
  end)

  it("finds the blocks, their outputs and the no-run marks", function()
    local text = table.concat({
      "intro", "```lua", 'print("a")', "```", "", "```", "a", "```",
      "<!-- no-run -->", "```lua", "ngx.say(1)", "```",
      "```lua", "print(1)", "```", "no output here",
      "```lua", "print(2)", "```", "```text", "2", "```",
    }, "\n") .. "\n"
    local b = R.blocks(text)
    assert.equal(4, #b)
    assert.same({ line = 2, code = 'print("a")\n', output = { first = 6, last = 8, text = "a\n" } }, b[1])
    assert.is_true(b[2].skip)
    assert.is_nil(b[2].problem)
    assert.matches("^no output block after it", b[3].problem)
    assert.equal("2\n", b[4].output.text)
  end)

  it("names the line that differs", function()
    assert.is_nil(R.compare("a\nb\n", "a\nb\n", 10))
    assert.equal("output line 2 (file line 12) differs:\n  expected: b\n  printed:  c", R.compare("a\nb\n", "a\nc\n", 10))
    assert.matches("^output line 3 %(file line 13%): the snippet prints more", R.compare("a\nb\n", "a\nb\nc\n", 10))
    assert.matches("^output line 2 %(file line 12%): the snippet stops printing here", R.compare("a\nb\n", "a\n", 10))
  end)
end)
