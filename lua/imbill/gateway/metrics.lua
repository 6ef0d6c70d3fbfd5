--- Counters for the status location, kept in the meta dict so every worker
-- adds to the same numbers, and printed in Prometheus' text format.
local ngx = ngx
local M = {}

local meta -- the meta dict, set by init

-- Families: name -> { type, help }.
local FAMILIES = {
  imbill_allowed_total = { "counter", "Actions counted or reserved, by app, action and path (rest, callback)." },
  imbill_refused_total = { "counter", "Actions refused, by app, action, path and Tencent's code." },
  imbill_unchanged_total = { "counter", "Actions that changed nothing (an existing account, a repeated join)." },
  imbill_duplicates_total = { "counter", "Callback events seen before (same event id), counted once." },
  imbill_not_counted_total = { "counter",
    "Events Tencent did but the store did not count, by app, action and reason (closed day, unknown group)." },
  imbill_passed_total = { "counter", "REST calls passed on without a decision, by app and reason." },
  imbill_callbacks_total = { "counter", "Callbacks accepted, by app and command." },
  imbill_callbacks_rejected_total = { "counter",
    "Callbacks rejected before anything was counted, by reason (bad_sign, stale, replayed, too_large, malformed, "
    .. "unknown_command, wrong_app, no_sign)." },
  imbill_reservations_total = { "counter", "Approvals of \"before\" callbacks that reserved capacity, by app." },
  imbill_reservations_confirmed_total = { "counter", "Reservations confirmed by an after callback, by app." },
  imbill_reservations_released_total = { "counter",
    "Reservations given back because Tencent refused or failed the call, by app." },
  imbill_reservations_expired_total = { "counter", "Approvals no after callback confirmed in time, by app." },
  imbill_settle_unknown_total = { "counter",
    "REST calls whose outcome Tencent did not say (no answer, not HTTP 200, not JSON): counts kept, by app." },
  imbill_store_errors_total = { "counter", "Store failures, by reason (no memory, busy, ...)." },
  imbill_evictions_total = { "counter", "Entries the dict evicted to make room (never expected: writes are safe)." },
  imbill_store_damaged = { "gauge", "1 after the dict ran out of memory: capped actions fail closed until cleared." },
  imbill_dict_capacity_bytes = { "gauge", "Size of each lua_shared_dict." },
  imbill_dict_free_bytes = { "gauge", "Free pages of each lua_shared_dict." },
}
M.FAMILIES = FAMILIES

function M.init(meta_dict)
  meta = meta_dict
end

local function esc(v)
  v = tostring(v)
  if v:find("[\\\"\n]") then v = v:gsub("\\", "\\\\"):gsub("\"", "\\\""):gsub("\n", "\\n") end
  return v
end

local function sorted_names(labels)
  local names = {}
  for k in pairs(labels) do names[#names + 1] = k end
  table.sort(names)
  return names
end

-- Label names in order, per family: each call site gives a family the same
-- names, so they are sorted once.
local ORDER = {}

local function label_text(labels, family)
  if not labels then return "" end
  local names = family and ORDER[family]
  local n = 0
  for _ in pairs(labels) do n = n + 1 end
  if not names or #names ~= n then
    names = sorted_names(labels)
    if family then ORDER[family] = names end
  end
  local s = "{"
  for i = 1, #names do
    local k = names[i]
    local v = labels[k]
    if v == nil then return label_text(labels) end
    s = s .. (i > 1 and "," or "") .. k .. "=\"" .. esc(v) .. "\""
  end
  return s .. "}"
end
M.label_text = label_text

--- Adds n (default 1) to a counter.  The key is the family plus its label
-- text, so the status page prints it back as it was.
function M.inc(name, labels, n)
  if not meta then return end
  local key = "m|" .. name .. label_text(labels, name)
  local v, err = meta:incr(key, n or 1)
  if v then return end
  if err == "not found" then
    local ok, err2 = meta:safe_add(key, 0)
    if ok or err2 == "exists" then
      meta:incr(key, n or 1)
      return
    end
    err = err2
  end
  ngx.log(ngx.ERR, "imbill: metric ", key, " not counted: ", err)
end

function M.set(name, labels, v)
  if not meta then return end
  meta:safe_set("m|" .. name .. label_text(labels), v)
end

--- The status page: every counter, with its HELP and TYPE lines.  extra:
-- gauges computed at read time, { name, labels, value } triples.
function M.render(extra)
  local by_family = {}
  for _, key in ipairs(meta:get_keys(0)) do
    if key:sub(1, 2) == "m|" then
      local rest = key:sub(3)
      local name = rest:match("^[%w_]+")
      local list = by_family[name]
      if not list then
        list = {}
        by_family[name] = list
      end
      list[#list + 1] = { rest, meta:get(key) }
    end
  end
  for _, e in ipairs(extra or {}) do
    local list = by_family[e[1]]
    if not list then
      list = {}
      by_family[e[1]] = list
    end
    list[#list + 1] = { e[1] .. label_text(e[2]), e[3] }
  end
  local names = {}
  for name in pairs(FAMILIES) do names[#names + 1] = name end
  table.sort(names)
  local out = {}
  for _, name in ipairs(names) do
    local f = FAMILIES[name]
    out[#out + 1] = "# HELP " .. name .. " " .. f[2]
    out[#out + 1] = "# TYPE " .. name .. " " .. f[1]
    local list = by_family[name] or {}
    table.sort(list, function(a, b) return a[1] < b[1] end)
    for _, e in ipairs(list) do out[#out + 1] = e[1] .. " " .. string.format("%.17g", e[2]) end
  end
  return table.concat(out, "\n") .. "\n"
end

return M
