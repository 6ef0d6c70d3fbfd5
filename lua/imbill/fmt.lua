--- Small text helpers for readable output.
local M = {}

--- 25000 -> "25,000"
function M.int(n)
  local s = string.format("%d", n)
  local sign, digits = s:match("^(-?)(%d+)$")
  return sign .. digits:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
end

function M.pad(s, w) return s .. string.rep(" ", w - #s) end
function M.lpad(s, w) return string.rep(" ", w - #s) .. s end

--- Renders rows (arrays of strings) as aligned columns; `right` marks columns
-- aligned to the right (numbers and money).
function M.table(header, rows, right)
  right = right or {}
  local w = {}
  local function widen(r)
    for i, c in ipairs(r) do w[i] = math.max(w[i] or 0, #c) end
  end
  if header then widen(header) end
  for _, r in ipairs(rows) do widen(r) end
  local out = {}
  local function line(r)
    local cells = {}
    for i, c in ipairs(r) do cells[i] = right[i] and M.lpad(c, w[i]) or M.pad(c, w[i]) end
    out[#out + 1] = (table.concat(cells, "  "):gsub("%s+$", ""))
  end
  if header then line(header) end
  for _, r in ipairs(rows) do line(r) end
  return table.concat(out, "\n")
end

return M
