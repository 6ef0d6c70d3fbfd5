-- The @usage examples of the doc comments (the API reference, `make docs`)
-- print what their `-->` comments say.  An example whose every `-->` follows a
-- print is run from the top of the repository, on the runtime running the
-- specs, and its printed lines must be the `-->` texts in order (runs of
-- spaces and tabs count as one space: print separates values with a tab, the
-- comments with two spaces).  A `-->` on a line of its own belongs to the
-- statement above it.  The example runs after a prelude that gives it `imbill`
-- and `S` (imbill.series), as the module's own comments assume.
local H = require "helper"
local R = require "readme_blocks"

local PRELUDE = 'local imbill = require "imbill"; local S = imbill.series\n'

local function files()
  local out = {}
  local p = io.popen("cd '" .. H.top .. "' && find lua/imbill -name '*.lua' | sort")
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  return out
end

--- The @usage blocks of a source: { line =, code =, expected = { ... }, prints = n }.
local function usages(text)
  local L = R.lines_of(text)
  local out = {}
  local i = 1
  while i <= #L do
    local first = L[i]:match("^%-%-+%s*@usage%s?(.*)$")
    if first then
      local b = { line = i, code = {}, expected = {}, prints = 0 }
      local function take(src)
        b.code[#b.code + 1] = src
        local _, n = src:gsub("print%(", "")
        b.prints = b.prints + n
        local want = src:match("%-%->%s*(.-)%s*$")
        if want then b.expected[#b.expected + 1] = want end
      end
      take(first)
      local j = i + 1
      while j <= #L and L[j]:match("^%-%-") and not L[j]:match("^%-%-+%s*@") and not L[j]:match("^%-%-%-") do
        take((L[j]:gsub("^%-%- ?", "")))
        j = j + 1
      end
      out[#out + 1] = b
      i = j
    else
      i = i + 1
    end
  end
  return out
end

local function norm(s) return (s:gsub("[ \t]+", " "):gsub("^ ", ""):gsub(" $", "")) end

describe("doc comment @usage examples", function()
  local checked = 0
  for _, file in ipairs(files()) do
    local f = assert(io.open(H.top .. "/" .. file, "rb"))
    local text = f:read("*a")
    f:close()
    for _, b in ipairs(usages(text)) do
      if #b.expected > 0 and #b.expected == b.prints then
        checked = checked + 1
        it(string.format("%s:%d prints what its --> comments say", file, b.line), function()
          local out, err, ok = R.run(PRELUDE .. table.concat(b.code, "\n") .. "\n",
            { top = H.top, lua = H.lua, cpath = H.cpath })
          assert(ok, string.format("%s:%d: the example failed under %s:\n%s", file, b.line, H.lua, err))
          local got = {}
          for _, l in ipairs(R.lines_of(out)) do got[#got + 1] = norm(l) end
          if out == "" then got = {} end
          local want = {}
          for k, w in ipairs(b.expected) do want[k] = norm(w) end
          assert.same(want, got, string.format("%s:%d: the printed lines differ from the --> comments", file, b.line))
        end)
      end
    end
  end

  it("finds the examples to check", function()
    -- the book, invoice, totals, compare, money, column, series, grid, meter and replay examples at least
    assert.is_true(checked >= 12, "only " .. checked .. " @usage examples checked")
  end)
end)
