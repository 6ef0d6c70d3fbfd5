--- The user measure an edition is billed (or, for a free edition, capped) by:
-- peak DAU for books 2020 and 2021, MAU for book 2022, whatever a user book
-- charges.  A usage that lacks it is never priced as if it were zero without
-- a word: totals, compare, breakeven, project, grid, shadow and migration
-- refuse it (compare leaves the row unpriced) unless the caller states an
-- assumption, and a single invoice prices it with a note.
local fmt = require "imbill.internal.fmt"

local errors = require "imbill.internal.errors"

local M = {}

M.LABEL = { dau = "peak DAU", mau = "MAU" }
-- the Lua fields that carry each measure in a usage table
M.FIELDS = { dau = { "peak_dau", "dau" }, mau = { "mau" } }

--- The measures `ed` needs, in the order dau, mau; each with why: "bills" or
-- "is capped at N".
function M.needed(ed)
  local out = {}
  for _, k in ipairs { "dau", "mau" } do
    if ed.free then
      local cap = ed.limits["free_" .. k]
      if cap then out[#out + 1] = { measure = k, why = "is capped at " .. fmt.int(cap) .. " " .. M.LABEL[k] } end
    else
      local c = ed.charges[k]
      if c and c.block > 0 then out[#out + 1] = { measure = k, why = "bills " .. M.LABEL[k] } end
    end
  end
  return out
end

--- The first measure `ed` needs that `has` (a set: has.dau, has.mau) lacks:
-- the measure and a reason such as "the usage gives no MAU, and 2022/standard
-- bills MAU"; nil when nothing is missing.
function M.missing(ed, has, name)
  for _, n in ipairs(M.needed(ed)) do
    if not has[n.measure] then
      return n.measure, string.format("the usage gives no %s, and %s %s", M.LABEL[n.measure],
        name or (ed.book .. "/" .. ed.id), n.why)
    end
  end
  return nil
end

--- Raises fn's error for a usage that lacks `measure` ("mau") where `why`
-- says what needs it: the message is why .. ": " .. advice, and the error
-- object carries `missing` (the measure) and `why`, so that a caller with
-- inputs of its own (the command line's options) can give its own advice.
function M.raise_missing(fn, field, measure, why, advice)
  local e = errors.new(fn, field, why .. ": " .. advice, errors.NOVALUE)
  e.missing, e.why = measure, why
  error(e, 0)
end

--- The note for a usage that covers part of a month (dates as text): the
-- same words wherever such a month is billed.
function M.coverage_note(from, to, days, dim)
  return string.format("the usage covers %s..%s, %d of %d days: billed as the whole month from those days' peaks",
    from, to, days, dim)
end

--- Which measures a usage table gives: { dau = bool, mau = bool }.
function M.given(u)
  local has = {}
  for k, fields in pairs(M.FIELDS) do
    for _, f in ipairs(fields) do if u[f] ~= nil then has[k] = true end end
  end
  return has
end

return M
