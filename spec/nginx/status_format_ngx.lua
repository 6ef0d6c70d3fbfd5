-- The status page is Prometheus' text format (version 0.0.4), which a
-- scraper rejects whole for one bad line: each family's HELP and TYPE lines
-- once, before its samples; the samples of a family together; each series
-- once; label values in quotes with backslash, quote and newline escaped;
-- HELP text with backslash and newline escaped; values numbers.  Each
-- family's samples carry the labels docs/gateway.md ("Metrics") names.
local h = require "ngx_helper"
local cjson = require "cjson"

local PRO, TRIAL = "1400000001", "1400000002"

-- docs/gateway.md's table: a family's label names, sorted
local LABELS = {
  imbill_allowed_total = "action,app,via", imbill_refused_total = "action,app,code,via",
  imbill_unchanged_total = "action,app,via", imbill_duplicates_total = "action,app",
  imbill_not_counted_total = "action,app,reason", imbill_passed_total = "app,reason",
  imbill_rest_rejected_total = "reason", imbill_callbacks_total = "app,command",
  imbill_callbacks_rejected_total = "reason", imbill_reservations_total = "app,via",
  imbill_reservations_confirmed_total = "app", imbill_reservations_expired_total = "app",
  imbill_reservations_released_total = "app,via", imbill_settle_unknown_total = "action,app",
  imbill_store_errors_total = "dict,reason", imbill_evictions_total = "dict", imbill_store_damaged = "dict",
  imbill_dict_capacity_bytes = "dict", imbill_dict_free_bytes = "dict",
  imbill_lock_busy_total = "app", imbill_lock_queued_total = "app",
}

-- A label value's text in quotes: returns the value and the position after
-- the closing quote, or nil and why.
local function label_value(line, i)
  if line:sub(i, i) ~= '"' then return nil, "a label value not in quotes at byte " .. i end
  local out, j = {}, i + 1
  while j <= #line do
    local c = line:sub(j, j)
    if c == '"' then return table.concat(out), j + 1 end
    if c == "\\" then
      local e = line:sub(j + 1, j + 1)
      if e == "\\" then out[#out + 1] = "\\" elseif e == '"' then out[#out + 1] = '"'
      elseif e == "n" then out[#out + 1] = "\n" else return nil, "an escape \\" .. e .. " the format has not" end
      j = j + 2
    else
      out[#out + 1] = c
      j = j + 1
    end
  end
  return nil, "an unterminated label value"
end

-- One sample line: name, { label = value }, sorted label names, value; or nil and why.
local function sample(line)
  local name, i = line:match("^([%a_:][%w_:]*)()")
  if not name then return nil, "no metric name" end
  local labels, names = {}, {}
  if line:sub(i, i) == "{" then
    i = i + 1
    while line:sub(i, i) ~= "}" do
      local k, after = line:match("^([%a_][%w_]*)=()", i)
      if not k then return nil, "no label name at byte " .. i end
      if labels[k] then return nil, "label " .. k .. " twice" end
      local v, nxt = label_value(line, after)
      if not v then return nil, nxt end
      labels[k], names[#names + 1] = v, k
      i = nxt
      if line:sub(i, i) == "," then i = i + 1 elseif line:sub(i, i) ~= "}" then return nil, "no , or } at byte " .. i end
    end
    i = i + 1
  end
  local value = line:match("^ (%S+)$", i)
  if not value then return nil, "no single value after the name and labels" end
  if not (tonumber(value) or value == "+Inf" or value == "-Inf" or value == "NaN") or value:find("^0x") then
    return nil, "a value that is no number: " .. value
  end
  table.sort(names)
  return name, labels, table.concat(names, ","), value
end

-- Every rule of the format on the page; returns the samples by series text.
local function check_page(page)
  assert.are.equal("\n", page:sub(-1), "the page ends in a newline")
  local help, typ, done, series, current = {}, {}, {}, {}, nil
  local n = 0
  for line in page:gmatch("([^\n]*)\n") do
    n = n + 1
    local at = "line " .. n .. ": " .. line:sub(1, 200)
    assert.are_not.equal("", line, at .. ": an empty line")
    local kind, fam, rest = line:match("^# (%u+) ([%a_:][%w_:]*) (.*)$")
    if kind == "HELP" then
      assert.is_nil(help[fam], at .. ": HELP twice")
      assert.is_nil(done[fam], at .. ": HELP after the family's samples")
      assert.is_nil(rest:gsub("\\\\", ""):gsub("\\n", ""):find("\\", 1, true), at .. ": a backslash not escaped")
      help[fam], current = true, fam
    elseif kind == "TYPE" then
      assert.is_true(help[fam], at .. ": TYPE before HELP")
      assert.is_nil(typ[fam], at .. ": TYPE twice")
      assert.truthy(rest == "counter" or rest == "gauge", at)
      typ[fam] = rest
    else
      assert.is_nil(line:find("^#"), at .. ": a comment line the format does not know")
      local name, labels, names, value = sample(line)
      assert.truthy(name, at .. ": " .. tostring(labels))
      assert.are.equal(current, name, at .. ": a sample away from its family's HELP and TYPE")
      assert.truthy(typ[name], at .. ": a sample before its TYPE")
      if typ[name] == "counter" then assert.is_true(tonumber(value) >= 0, at .. ": a counter below 0") end
      if LABELS[name] then assert.are.equal(LABELS[name], names, at .. ": the labels docs/gateway.md names") end
      local key = line:match("^(.*) %S+$")
      assert.is_nil(series[key], at .. ": a series twice")
      series[key] = { name = name, labels = labels, value = tonumber(value) }
      done[name] = true
    end
  end
  return series, help
end

describe("the status page", function()
  before_each(h.flush)

  it("is Prometheus' text format after calls of every kind, each family named and typed once", function()
    h.rest("im_open_login_svc/account_import", TRIAL, { UserID = "a" })
    h.rest("im_open_login_svc/account_import", TRIAL, { UserID = "a" })
    h.rest("group_open_http_svc/create_group", PRO, { Type = "Public", GroupId = "x", Owner_Account = "o" },
      { ["X-Stub-Status"] = "502" })
    h.rest("sns/friend_add", TRIAL, { From_Account = "a", AddFriendItem = { { To_Account = "fail-b" } } })
    h.rest("im_open_login_svc/account_import", "977", { UserID = "a" })
    h.callback(PRO, "State.StateChange", "spec-token-pro", cjson.encode { CallbackCommand = "State.StateChange",
      Info = { Action = "Login", To_Account = "u" } })
    h.callback(PRO, "State.StateChange", "spec-token-pro", "{}", { sign = string.rep("0", 64) })
    -- a join to a group the store never saw: Tencent did it, nothing counted
    h.callback(PRO, "Group.CallbackAfterNewMemberJoin", "spec-token-pro", cjson.encode {
      CallbackCommand = "Group.CallbackAfterNewMemberJoin", GroupId = "unseen", Type = "Public", JoinType = "Apply",
      NewMemberList = { { Member_Account = "u" } } })
    h.settled()
    local series, help = check_page(h.http.get("/imbill/status").body)
    for fam in pairs(LABELS) do assert.is_true(help[fam], fam .. " has no HELP line") end
    local names = {}
    for _, s in pairs(series) do names[s.name] = true end
    -- each HELP line names the labels its family's samples carry (it said
    -- "by app" of a family labelled by app and action, "path" for via)
    local page = h.http.get("/imbill/status").body
    -- and the reason values it does not spell out in prose
    assert.are.equal(1, h.metric("imbill_not_counted_total", { app = PRO, action = "Group.CallbackAfterNewMemberJoin",
      reason = "group_exists" }))
    assert.truthy(page:match("# HELP imbill_not_counted_total ([^\n]*)"):find("group_exists: a group it never saw", 1,
      true))
    for fam, labels in pairs(LABELS) do
      local text = page:match("# HELP " .. fam .. " ([^\n]*)")
      for label in labels:gmatch("[^,]+") do
        assert.truthy(text:find("%f[%w_]" .. label .. "%f[^%w_]"), fam .. "'s HELP does not name " .. label .. ": " .. text)
      end
    end
    for _, fam in ipairs { "imbill_allowed_total", "imbill_unchanged_total", "imbill_settle_unknown_total",
                           "imbill_rest_rejected_total", "imbill_callbacks_total", "imbill_callbacks_rejected_total",
                           "imbill_reservations_released_total", "imbill_dict_capacity_bytes" } do
      assert.is_true(names[fam], fam .. " has no sample")
    end
  end)

  it("escapes a label value's backslash, quote and newline, and reads back as it was counted", function()
    local hostile = 'a "quoted" \\ back\\slash\nnew} line,x="y"'
    local r = h.http.get("/t/label?reason=" .. hostile:gsub("[^%w]", function(c)
      return string.format("%%%02X", c:byte())
    end))
    assert.are.equal(200, r.status, r.body)
    local page = h.http.get("/imbill/status").body
    assert.truthy(page:find('imbill_callbacks_rejected_total{reason="a \\"quoted\\" \\\\ back\\\\slash\\nnew} line,'
      .. 'x=\\"y\\""} 1\n', 1, true), page:sub(1, 3000))
    local series = check_page(page)
    local found
    for _, s in pairs(series) do
      if s.name == "imbill_callbacks_rejected_total" and s.labels.reason == hostile then found = s end
    end
    assert.truthy(found, "the hostile value read back")
    assert.are.equal(1, found.value)
  end)
end)
