--- What a free edition can serve.  A free edition is never billed for usage,
-- but it serves only up to hard caps: its free DAU or MAU, and its groups (the
-- caps of the three kinds together where it has all three: non-AV, AVChatRoom
-- and BChatRoom, each of which the meter lets exist beside the others; else
-- its free groups).
-- Past a cap the edition cannot serve the app at any price: comparisons mark
-- it, break-even tables and cost curves end there, projections and grids do
-- not count it.  Paid editions have no such cap on the billed measures.
local fmt = require "imbill.internal.fmt"

local M = {}

--- { dau =, mau =, groups = } caps of `ed` (nil fields: no cap); nil for a
-- paid edition.
function M.of(ed)
  if not ed.free then return nil end
  local l = ed.limits
  local groups = l.free_groups
  if l.non_av_groups and l.av_groups and l.bchatroom_total then
    groups = l.non_av_groups + l.av_groups + l.bchatroom_total
  end
  return { dau = l.free_dau, mau = l.free_mau, groups = groups }
end

M.LABEL = { dau = "peak DAU", mau = "MAU", groups = "groups" }

--- Why `ed` cannot serve usage { peak_dau =, mau =, groups_peak = } (nil or 0
-- for a measure not given): a list of reasons, empty when it can.
function M.reasons(ed, usage)
  local r = {}
  local cap = M.of(ed)
  if not cap then return r end
  if cap.dau and (usage.peak_dau or 0) > cap.dau then
    r[#r + 1] = string.format("peak DAU %s over the free edition's %s", fmt.int(usage.peak_dau), fmt.int(cap.dau))
  end
  if cap.mau and (usage.mau or 0) > cap.mau then
    r[#r + 1] = string.format("MAU %s over the free edition's %s", fmt.int(usage.mau), fmt.int(cap.mau))
  end
  if cap.groups and (usage.groups_peak or 0) > cap.groups then
    r[#r + 1] = string.format("groups %s over the free edition's cap of %s", fmt.int(usage.groups_peak),
      fmt.int(cap.groups))
  end
  return r
end

--- "2021/free serves at most 100 peak DAU": the sentence for one cap.
function M.sentence(name, measure, cap)
  return string.format("%s serves at most %s %s", name, fmt.int(cap), M.LABEL[measure])
end

return M
