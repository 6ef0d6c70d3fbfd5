-- scripts/readme-outputs.lua [FILE.md ...]: runs every ```lua block of the
-- files (default README.md and docs/*.md) under Lua 5.4 with build/5.4, and
-- writes what each prints into the ``` block after it (adding one where it is
-- missing).  Read the diff before committing: an output that changed is an
-- answer that changed.  spec/readme_spec.lua checks the same blocks.
package.path = "spec/?.lua;" .. package.path
local R = require "readme_blocks"

local top = os.getenv("PWD")
local files = { ... }
if #files == 0 then
  files[1] = "README.md"
  local p = io.popen("ls docs/*.md 2>/dev/null")
  for line in p:lines() do files[#files + 1] = line end
  p:close()
end

local status = 0
for _, file in ipairs(files) do
  local f = assert(io.open(file, "rb"))
  local text = f:read("*a")
  f:close()
  local L = R.lines_of(text)
  local blocks = R.blocks(text)
  -- from the last block up, so earlier line numbers stay right
  for n = #blocks, 1, -1 do
    local b = blocks[n]
    if not b.skip then
      local out, err, ok = R.run(b.code, { top = top, lua = "lua5.4", cpath = top .. "/build/5.4" })
      if not ok then
        io.stderr:write(string.format("%s block %d (line %d) failed:\n%s\n", file, n, b.line, err))
        status = 1
      else
        local body = R.lines_of(out)
        if out == "" then body = {} end
        local new = { "```" }
        for _, l in ipairs(body) do new[#new + 1] = l end
        new[#new + 1] = "```"
        local first, last
        if b.output then
          first, last = b.output.first, b.output.last
        else
          -- after the lua block's closing fence
          local close = b.line + 1
          while L[close] ~= "```" do close = close + 1 end
          first, last = close + 1, close
          table.insert(new, 1, "")
        end
        local out_lines = {}
        for k = 1, first - 1 do out_lines[#out_lines + 1] = L[k] end
        for _, l in ipairs(new) do out_lines[#out_lines + 1] = l end
        for k = last + 1, #L do out_lines[#out_lines + 1] = L[k] end
        L = out_lines
      end
    end
  end
  local new_text = table.concat(L, "\n") .. "\n"
  if new_text ~= text then
    local w = assert(io.open(file, "wb"))
    w:write(new_text)
    w:close()
    print("updated " .. file)
  end
end
os.exit(status)
