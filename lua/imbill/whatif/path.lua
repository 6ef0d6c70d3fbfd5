--- The cheapest legal path of edition changes over a projection's horizon,
-- within one price book.
local core = require "imbill.core"
local money = require "imbill.internal.money"
local dates = require "imbill.internal.dates"

local M = {}

local INF = math.huge
local function cents(m) return m:cents() end
local function m_of(c) return money.from_cents(c) end

--- The cheapest sequence of editions within one price book, changes taking
-- effect on the 1st of a month (so at most one change a month), never going
-- back to a free edition where the book forbids it, never on an edition that
-- cannot serve the month (limits, features, caps, a book not yet in force),
-- and for a new app never joining a book in a month it is no longer sold to
-- new apps (q.closed[j]).  Which changes are allowed is the core's
-- edition-change policy (core.change_check); the first paid edition of the
-- horizon pays its activation month as the invoice rules say (docs/rules.md,
-- "Plan fee").  Ties keep the fewer changes.
--
-- q = { months =, month_names =, cands =, book =, full =, act =, reasons =,
--       current =, paid_before =, act_month =, closed = { [j] = reason } }
function M.cheapest(q)
  local book, cands = q.book, q.cands
  local idx = {}
  for c, cand in ipairs(cands) do if cand.book == book then idx[#idx + 1] = c end end
  -- a change from the edition of state a (0: none among the candidates, a
  -- paid one when pb) to that of candidate c on day d
  local function allowed(a, pb, c, d)
    if a == c or (a == 0 and not pb) then return true end
    local cur = a == 0 and { edition = 0, free = false } or { edition = a, free = cands[a].ed.free }
    return core.change_check(book.policy, { cur }, nil, d, { edition = c, free = cands[c].ed.free }) == "ok"
  end
  -- state key: c .. ":" .. (paid_before and 1 or 0); c = 0 is "no paid edition yet"
  local states = {}
  local start_c = 0
  if q.current then
    for _, c in ipairs(idx) do if cands[c].ed == q.current then start_c = c end end
  end
  states[start_c .. ":" .. (q.paid_before and 1 or 0)] = { cost = 0, changes = 0, c = start_c, pb = q.paid_before,
                                                           trail = {} }
  local n = #q.months
  for j = 1, n do
    local m = q.months[j]
    local nxt = {}
    local function offer(key, st)
      local old = nxt[key]
      if not old or st.cost < old.cost or (st.cost == old.cost and st.changes < old.changes) then nxt[key] = st end
    end
    local keys = {}
    for k in pairs(states) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do
      local st = states[k]
      if q.act_month and m < q.act_month then
        -- before the first paid activation the app is on no paid edition
        offer(k, { cost = st.cost, changes = st.changes, c = 0, pb = st.pb,
                   trail = { prev = st.trail, c = 0, j = j, cents = 0 } })
      else
        for _, c in ipairs(idx) do
          local ed = cands[c].ed
          local ok = #(q.reasons[j][cands[c].name] or {}) == 0
          if not allowed(st.c, st.pb, c, dates.month_first(m)) then ok = false end
          -- a fixed first activation: that month starts a paid edition
          if q.act_month == m and (ed.free or st.pb) then ok = false end
          if not ed.free and not st.pb and not q.act[j][c] then ok = false end
          -- a new app joins the book only while it is sold to new apps
          if st.c == 0 and q.closed and q.closed[j] then ok = false end
          if ok then
            local inv = q.full[j][c]
            if not ed.free and not st.pb and q.act[j][c] then inv = q.act[j][c] end
            local t = cents(inv.total)
            local changed = st.c ~= c and st.c ~= 0 and 1 or 0
            if st.c == 0 and not ed.free then changed = 1 end
            local pb = st.pb or not ed.free
            offer(c .. ":" .. (pb and 1 or 0), { cost = st.cost + t, changes = st.changes + changed, c = c, pb = pb,
                                                  trail = { prev = st.trail, c = c, j = j, cents = t, inv = inv } })
          end
        end
      end
    end
    states = nxt
  end
  local best
  local keys = {}
  for k in pairs(states) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local st = states[k]
    if not best or st.cost < best.cost or (st.cost == best.cost and st.changes < best.changes) then best = st end
  end
  local path = { book = book.name, steps = {} }
  if not best or best.cost == INF then
    path.note = "no legal sequence of editions of price book " .. book.name .. " can serve every month"
    return path
  end
  local trail, rev = best.trail, {}
  while trail and trail.j do
    rev[#rev + 1] = trail
    trail = trail.prev
  end
  if #rev < n then
    path.note = "no legal sequence of editions of price book " .. book.name .. " can serve every month"
    return path
  end
  local prev = start_c
  for i = #rev, 1, -1 do
    local t = rev[i]
    local step = { month = q.month_names[t.j], name = t.c ~= 0 and cands[t.c].name or nil,
                   edition = t.c ~= 0 and cands[t.c].ed.id or nil, total = m_of(t.cents), invoice = t.inv }
    if t.c ~= prev then
      if t.c == 0 then step.change = nil
      elseif prev == 0 then
        step.change = cands[t.c].ed.free and ("start on " .. cands[t.c].ed.id) or ("activate " .. cands[t.c].ed.id)
      else step.change = cands[prev].ed.id .. " -> " .. cands[t.c].ed.id end
    end
    prev = t.c
    path.steps[#path.steps + 1] = step
  end
  path.total = m_of(best.cost)
  path.changes = 0
  for _, st in ipairs(path.steps) do if st.change and st.change:find("->", 1, true) then path.changes = path.changes + 1 end end
  return path
end

return M
