-- scripts/fuzz_api_results.lua OUT DIR CHANGED RUNTIME...: the API fuzz runs
-- of scripts/fuzz-api.sh as one suite's results (build/results/fuzz-api.json),
-- one entry per runtime; prints "fuzz-api: N passed, N failed".
local json = require "dkjson"

local out, dir, changed = arg[1], arg[2], arg[3] == "1"
local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local successes, failures = {}, {}
for i = 4, #arg do
  local rt = arg[i]
  local d = dir .. "/" .. rt
  local name = "fuzz-api " .. rt
  local rc = tonumber(read(d .. "/rc") or "")
  local doc = read(d .. "/out.json")
  doc = doc and json.decode(doc)
  if rc == 0 and type(doc) == "table" and #doc.findings == 0 then
    successes[#successes + 1] = { name = string.format("%s: %d calls in %ds over %d targets, seed %d", name,
      doc.calls, doc.seconds, doc.targets, doc.seed) }
  elseif (rc == 0 or rc == 1) and type(doc) == "table" then
    local lines = { string.format("%d findings in %d calls (seed %d)", #doc.findings, doc.calls, doc.seed) }
    for k, f in ipairs(doc.findings) do
      lines[#lines + 1] = string.format("%s%s: %s (x%d)\n  message: %s\n  call: %s", f.others and "[not ours] " or "",
        f.target, f.kind, f.count, f.message, f.call:sub(1, 300))
      -- the first reproducers in full; the rest are in build/fuzz-api/RUNTIME/repro/
      if k <= 3 then lines[#lines + 1] = "  reproducer:\n" .. f.repro end
    end
    lines[#lines + 1] = "all reproducers: " .. d .. "/repro/"
    failures[#failures + 1] = { name = name, message = table.concat(lines, "\n") }
  else
    -- the process died: a crash, a sanitizer report, or the time limit
    local why = rc == nil and "no exit status" or rc == 124 and "timed out" or rc == 137 and "killed"
      or rc == 127 and "not run" or ("exit status " .. rc)
    local err = read(d .. "/stderr") or ""
    if #err > 6000 then err = err:sub(1, 3000) .. "\n...\n" .. err:sub(-3000) end
    failures[#failures + 1] = { name = name .. ": the fuzzer died (" .. why .. ")",
      message = "the call it was making:\n" .. (read(d .. "/last.lua") or "(none recorded)\n") .. "stderr:\n" .. err }
  end
end
if changed then
  failures[#failures + 1] = { name = "fuzz-api: the run changed the checkout",
    message = "git status differs before and after the fuzz run: a call wrote outside its scratch directory" }
end
if #successes + #failures == 0 then failures[1] = { name = "fuzz-api", message = "no runtime ran" } end

local f = assert(io.open(out, "wb"))
f:write(json.encode({ successes = successes, failures = failures }, { indent = true }))
f:close()
for _, x in ipairs(failures) do io.write("  FAILED ", x.name, "\n") end
io.write(string.format("fuzz-api: %d passed, %d failed\n", #successes, #failures))
os.exit(#failures == 0 and 0 or 1)
