--- Every public function and method of imbill, with valid-looking arguments.
--
-- A target: name (what the report calls it), area (for --skip), f (the
-- function, as an expression), args (argument specs, gen.lua), prefix (how
-- its error messages must start), meter = true where m's state must survive
-- a raised error or a refusal unchanged, jit = true for LuaJIT only.
local G = require "gen"
local V, O, T, L = G.V, G.O, G.T, G.L

local M = {}
local list = {}
M.list = list

local function add(t)
  t.prefix = t.prefix or t.name
  list[#list + 1] = t
end

-- common argument specs -----------------------------------------------------
local AMOUNT = V('"149.99"', "149", "0.015", '"0.015"', 'imbill.money("1")', "0", '"-1.50"', "1e6")
local MONEY = V('imbill.money("149.99")', 'imbill.money("0.015")', 'imbill.money("-2")', "inv.total",
  'imbill.money.from_cents(1)')
local INT = V("0", "1", "2", "100", "-3", "12345")
local BOOKNAME = V('"2020"', '"2021"', '"2022"')
local BOOK = V('"2020"', '"2021"', '"2022"', "b", "b21", "wb")
local ED2020 = V('"pro"', '"flagship"', '"trial"')
local DATE = V('"2021-03-01"', '"2021-03-15"', '"2022-12-26"', '"2020-02-19"', '"2021-03-31"')
local MONTH = V('"2021-03"', '"2021-02"', '"2021-04"', '"2022-11"', '"2023-03"')
local MMONTH = V('"2021-03"', '"2021-02"', '"2021-04"')
local T0 = V("1614556800", "1614556800 + 3600", "1614556800 + 86400 * 3", "1614556800 + 86400 * 10 + 7",
  "1614556800 - 86400 * 5")
local USER = V('"u1"', '"u2"', '"u3"', '"u4"', '"alice"')
local GROUP = V('"g1"', '"g2"', '"av1"', '"b1"')
local GTYPE = V('"Public"', '"Private"', '"ChatRoom"', '"AVChatRoom"', '"BChatRoom"', '"Community"', '"Work"')
local EVID = O(V('"e1"', '"e2"', '"e9"', '"x1"'))
local FEATURES = V('{ "read_receipts" }', '{ "push_all", "local_search" }', "{}")
local M_SELF = V("m")

-- money -----------------------------------------------------------------------
add { name = "imbill.money", area = "money", f = "imbill.money", args = { AMOUNT } }
add { name = "imbill.money.is", area = "money", f = "imbill.money.is", args = { MONEY } }
add { name = "imbill.money.from_cents", area = "money", f = "imbill.money.from_cents", args = { INT } }
add { name = "imbill.money.from_micros", area = "money", f = "imbill.money.from_micros", args = { INT } }
add { name = "imbill.money.sum", area = "money", f = "imbill.money.sum",
      args = { L(V('"1.5"', "2", 'imbill.money("0.015")', "0.25"), 0, 4) } }
add { name = "imbill.money.pretty", area = "money", f = "imbill.money.pretty", args = { MONEY, O(V("0", "2", "6")) } }
add { name = "money:cents", area = "money", f = 'imbill.money("1").cents', args = { MONEY } }
add { name = "money:micros", area = "money", f = 'imbill.money("1").micros', args = { MONEY } }
add { name = "money:format", area = "money", f = 'imbill.money("1").format', args = { MONEY, O(V("0", "2", "6")) } }
for _, op in ipairs { "add", "sub", "lt", "le", "eq" } do
  add { name = "money " .. op, area = "money", f = "OP." .. op, args = { MONEY, V('"1.5"', "2", 'imbill.money("3")',
        "0.5") }, prefix = "imbill.money", needs = (op == "lt" or op == "le") and "money_cmp" or "money" }
end
add { name = "money mul", area = "money", f = "OP.mul", args = { MONEY, INT }, prefix = "imbill.money",
      needs = "money" }
add { name = "money unm", area = "money", f = "OP.unm", args = { MONEY }, prefix = "imbill.money", needs = "money",
      operands = 1 }
add { name = "money concat", area = "money", f = "OP.concat", args = { MONEY, V('" USD"', "5", 'imbill.money("2")') },
      prefix = "imbill.money", needs = "money" }
add { name = "money tostring", area = "money", f = "OP.tostring", args = { MONEY }, prefix = "imbill.money",
      needs = "imbill", operands = 1 }

-- books -----------------------------------------------------------------------
local LIMITS = T { { "accounts", O(V("100", '"unlimited"', "0")) }, { "members_per_group", O(V("200",
  '{ Public = 300 }')) }, { "av_groups", O(V("10")) } }
local CHARGE = T { { "free", O(V("10000", "0")) }, { "block", O(V("10000", "1")) }, { "price", O(V('"149.99"',
  '"0.015"')) } }
local EDIT = T { { "monthly_fee", O(AMOUNT) }, { "free", O(V("false", "true")) }, { "limits", O(LIMITS) },
  { "features", O(FEATURES) }, { "dau", O(CHARGE) }, { "groups", O(CHARGE) }, { "mau", O(CHARGE) },
  { "like", O(V('"pro"', '"trial"')) } }
local DERIVE = T {
  { "base", O(V('"2020"', '"2021"', '"2022"', "b", "wb")) }, { "name", O(V('"what-if"', '"x"')) },
  { "from", O(DATE) }, { "to", O(DATE) }, { "tz", O(V('"+08:00"', '"-05:00"', "0")) },
  { "editions", O(T { { "pro", O(EDIT) }, { "gold", O(EDIT) } }, 0.8) }, { "remove", O(V('{ "trial" }')) },
  { "policy", O(T { { "return_to_free", O(V("true", "false")) }, { "activation_month_free", O(V("true", "false",
    '{ before = "2022-10-18" }')) } }) },
  { "addons", O(T { { "x", T { { "fee", V('{ pro = "1" }') }, { "raises", O(V('{ av_groups = { pro = 5 } }')) } } } }) },
}
add { name = "imbill.book", area = "book", f = "imbill.book", args = { V('"2020"', '"2021"', '"2022"', "b") } }
add { name = "imbill.book derive", area = "book", f = "imbill.book", args = { DERIVE }, prefix = "imbill.book" }
add { name = "imbill.book_at", area = "book", f = "imbill.book_at", args = { DATE } }
add { name = "imbill.is_book", area = "book", f = "imbill.is_book", args = { BOOK } }
local BOOKS = V("b", "b21", "b22", "wb")
add { name = "book:editions", area = "book", f = "b.editions", args = { BOOKS } }
add { name = "book:edition", area = "book", f = "b.edition", args = { BOOKS, ED2020 } }
add { name = "book:has_edition", area = "book", f = "b.has_edition", args = { BOOKS, ED2020 } }
add { name = "book:addon", area = "book", f = "b.addon", args = { BOOKS, V('"av_unlimited"', '"retention_30"') } }
add { name = "book:in_force", area = "book", f = "b.in_force", args = { BOOKS, V('"2021-03-01"', "18687") } }
add { name = "book:due", area = "book", f = "b.due", args = { BOOKS, V("24254", "24255") } }
add { name = "book:arrears_after", area = "book", f = "b.arrears_after", args = { BOOKS, V("18720", "19300") } }
add { name = "book tostring", area = "book", f = "OP.tostring", args = { BOOKS }, prefix = "book",
      needs = "imbill", operands = 1 }
add { name = "edition:supports", area = "book", f = "ed.supports", args = { V("ed"), V('"read_receipts"',
      '"push_all"') } }
add { name = "edition:members_limit", area = "book", f = "ed.members_limit", args = { V("ed"), GTYPE } }
add { name = "edition tostring", area = "book", f = "OP.tostring", args = { V("ed") }, prefix = "edition",
      needs = "imbill", operands = 1 }

-- invoices --------------------------------------------------------------------
local INVOICE = T {
  { "book", O(BOOK, 0.8) }, { "edition", O(ED2020, 0.9) }, { "month", O(MONTH, 0.95) },
  { "peak_dau", O(V("25000", "0", "10001", "9999")) }, { "groups_peak", O(V("250000", "0")) },
  { "dau", O(V("H.month31(100)", "H.month30(100)"), 0.15) }, { "groups", O(V("H.month31(5)"), 0.1) },
  { "mau", O(V("0", "61000")) }, { "activated", O(DATE, 0.2) },
  { "change", O(T { { "on", DATE }, { "to", V('"flagship"', '"pro"', '"trial"') } }, 0.2) },
  { "addons", O(V('{ "av_unlimited" }', '{ { id = "retention_30", activated = "2021-03-05" } }'), 0.2) },
  { "trtc", O(T { { "audio", O(V("3600", "0")) }, { "hd", O(V("60")) }, { "free_minutes", O(V("0", "10000")) } },
    0.2) },
  { "tz", O(V('"+08:00"', '"+00:00"'), 0.1) }, { "activated_before", O(V("true", "false"), 0.1) },
}
add { name = "imbill.invoice", area = "invoice", f = "imbill.invoice", args = { INVOICE } }
add { name = "invoice:data", area = "invoice", f = "inv.data", args = { V("inv") } }
add { name = "invoice tostring", area = "invoice", f = "OP.tostring", args = { V("inv") }, prefix = "invoice",
      needs = "imbill", operands = 1 }

-- compare, best, breakeven, totals (bill) ------------------------------------
local COMPARE = T {
  { "month", O(MONTH, 0.95) }, { "peak_dau", O(V("25000", "0")) }, { "groups_peak", O(V("250000")) },
  { "mau", O(V("0", "30000")) }, { "needs", O(FEATURES) }, { "books", O(V('{ "2022" }', '{ "2020", "2021" }')) },
  { "editions", O(V('{ "pro" }', '{ "2021/pro" }')) }, { "accounts", O(V("30000")) },
}
add { name = "imbill.compare", area = "bill", f = "imbill.compare", args = { COMPARE } }
add { name = "imbill.best", area = "bill", f = "imbill.best", args = { V("rows", "{}") } }
add { name = "comparison:data", area = "bill", f = "rows.data", args = { V("rows") } }
add { name = "imbill.breakeven", area = "bill", f = "imbill.breakeven", args = { T {
  { "a", V('"2022/standard"', '"2020/pro"') }, { "b", V('"2021/pro"') }, { "metric", O(V('"dau"', '"mau"')) },
  { "from", O(V("0", "100")) }, { "to", O(V("20000", "100000")) }, { "usage", O(V("{ groups_peak = 0 }")) } } } }
add { name = "breakeven:data", area = "bill", f = "be.data", args = { V("be") } }
add { name = "imbill.totals", area = "bill", f = "imbill.totals", args = { T {
  { "book", O(BOOKNAME) }, { "edition", V('"pro"', '"standard"') },
  { "peak_dau", O(V("{ 9999, 10000, 10001 }", "5", "{}")) }, { "groups_peak", O(V("250000", "{ 1, 2, 3 }")) },
  { "mau", O(V("{ 1, 2, 3 }", "0")) } } } }

-- the meter -------------------------------------------------------------------
local METER_OPTS = T {
  { "book", O(BOOK, 0.9) }, { "edition", O(ED2020, 0.9) }, { "tz", O(V('"+08:00"', '"-05:30"', "3600")) },
  { "addons", O(V('{ "av_unlimited" }', "{}")) }, { "activated", O(DATE) },
  { "same_day_disbands", O(V("true", "false")) }, { "clock", O(T0) },
}
add { name = "imbill.meter", area = "meter", f = "imbill.meter", args = { METER_OPTS } }
add { name = "imbill.meter.new", area = "meter", f = "imbill.meter.new", args = { METER_OPTS }, prefix = "imbill.meter" }
add { name = "imbill.meter.limits", area = "meter", f = "imbill.meter.limits",
      args = { V("b"), V("ed", 'b:edition("flagship")'), O(V('{ "av_unlimited" }')), O(V("true")) } }
add { name = "imbill.meter.load", area = "meter", f = "imbill.meter.load",
      args = { V("SAVED", '"/proc/self/maps"'), O(T { { "book", O(V("b", '"2020"')) } }) } }
-- A device that never ends: the loader reads the whole file before it checks
-- the magic (src/core/meter_file.c), so this one is kept apart.
add { name = "imbill.meter.load endless", area = "meter_file", f = "imbill.meter.load", prefix = "imbill.meter.load",
      args = { V('"/dev/zero"') } }

-- Queries change nothing, even when they answer.
local PURE = { dau = true, mau = true, peak_dau = true, peak_groups = true, groups = true, accounts = true,
               has_account = true, friends = true, joined = true, members = true, edition = true, addons = true,
               last_day = true, memory = true, book = true, usage = true, invoice = true, save = true }
local function action(name, ...)
  add { name = "meter:" .. name, area = "meter", f = "m." .. name, args = { M_SELF, ... }, meter = true,
        query = name == "has_account", pure = PURE[name], roundtrip = name == "save" }
end
action("create_account", USER, T0, EVID)
action("delete_account", USER, T0, EVID)
action("login", USER, T0, EVID)
action("logins", V('{ "u1", "u2" }', '{ "u5" }', "{}", "H.users(3000)", "H.users(3000, 2500, 5)"),
  V("{ 1614556800, 1614556900 }", "{ 1614556800 }", "{}", "H.times(3000)", "H.times(3000, 1200, -1)"))
action("create_group", GROUP, GTYPE, T0, EVID)
action("disband_group", GROUP, T0, EVID)
action("join_group", GROUP, USER, T0, EVID)
action("leave_group", GROUP, USER, T0, EVID)
action("add_friend", USER, USER, T0, EVID)
action("remove_friend", USER, USER, T0, EVID)
action("change_edition", V('"flagship"', '"trial"', '"pro"'), T0, EVID)
action("dau", DATE)
action("mau", MMONTH)
action("peak_dau", MMONTH)
action("peak_groups", MMONTH)
action("groups")
action("accounts")
action("has_account", USER)
action("friends", USER)
action("joined", USER)
action("members", GROUP)
action("edition", O(T0))
action("addons")
action("last_day")
action("memory")
action("book")
action("release", V('"2021-01-01"', '"2021-03-01"'))
action("set_clock", O(T0))
action("usage", MMONTH)
action("invoice", MMONTH)
action("save", V("FUZZ_TMP .. \"/out.meter\"", "SAVED"), O(T { { "crash_after_bytes", O(V("10", "0")) } }, 0.1))
add { name = "meter tostring", area = "meter", f = "OP.tostring", args = { M_SELF }, prefix = "meter", meter = true,
      needs = "imbill", operands = 1 }

-- A finalizer closes the meter in the middle of a method: nothing may read it
-- after that (under ASan a read of the freed meter is a report).
add { name = "meter closed mid-call", area = "meter", f = "H.close_mid_call", prefix = "meter:",
      args = { V('"edition"', '"usage"', '"invoice"', '"tostring"', '"refusal"', '"refusal_group"', '"change"',
        '"logins"', '"ffi_logins"', '"save"', '"limits"'), O(V("20", "50")) } }

add { name = "imbill.core.plan", area = "meter", f = "imbill.core.plan", args = {
  V("imbill.meter.limits(b, ed)", "imbill.meter.limits(b, b:edition(\"trial\"))"),
  V('"create_group"', '"login"', '"join_group"', '"create_account"'), V("nil", '"Public"', '"BChatRoom"'), T0,
  V("28800", "0", "-18000"), O(V("true", "false")), O(T0) } }

-- replay ----------------------------------------------------------------------
local EVENT = T {
  { "time", V("1614556800", '"2021-03-01T01:00:00Z"', '"2021-03-02T01:00:00+08:00"') },
  { "action", V('"login"', '"create_account"', '"create_group"', '"join_group"', '"add_friend"',
    '"change_edition"') },
  { "user", O(USER, 0.8) }, { "group", O(GROUP) }, { "peer", O(USER) }, { "type", O(GTYPE) },
  { "edition", O(ED2020) }, { "id", O(V('"e1"', '"e7"')) },
}
add { name = "imbill.replay.run", area = "replay", f = "imbill.replay.run", args = { T {
  { "path", V("EVENTS_CSV", "EVENTS_JSONL") }, { "format", O(V('"csv"', '"jsonl"'), 0.2) },
  { "book", O(V('"2020"')) }, { "edition", O(V('"trial"', '"pro"')) }, { "tz", O(V('"+08:00"')) },
  { "strict", O(V("true", "false")) }, { "meter", O(V("m"), 0.3) }, { "name", O(V('"log"')) },
  { "addons", O(V("{}"), 0.1) }, { "same_day_disbands", O(V("true"), 0.1) } } }, meter = "strict" }
add { name = "imbill.replay.events", area = "replay", f = "H.drain_events", prefix = "imbill.replay.events",
      args = { V("EVENTS_CSV", "EVENTS_JSONL", "EVENTS_CSV", '"/dev/zero"'), O(V('"csv"', '"jsonl"')), O(V("m")) } }
add { name = "imbill.replay.event", area = "replay", f = "imbill.replay.event", args = { EVENT, O(V("m")) },
      answers = "message" }
local NORMAL = T {
  { "action", V('"login"', '"create_account"', '"create_group"', '"join_group"', '"add_friend"',
    '"change_edition"', '"disband_group"') },
  { "time", T0 }, { "user", O(USER, 0.8) }, { "group", O(GROUP) }, { "peer", O(USER) }, { "type", O(GTYPE) },
  { "edition", O(ED2020) }, { "id", O(V('"e1"', '"e7"')) }, { "day", O(V("18687")) },
}
add { name = "imbill.replay.apply", area = "replay", f = "imbill.replay.apply", prefix = { "imbill.replay.apply", "meter:" },
      args = { M_SELF, NORMAL }, meter = true }
add { name = "imbill.replay.time", area = "replay", f = "imbill.replay.time",
      args = { V("1614556800", '"2021-03-01T01:00:00Z"', '"2021-03-01T01:00:00-05:00"') }, answers = "message" }

-- LuaJIT's FFI paths ----------------------------------------------------------
add { name = "ffi meter logins", area = "ffi_meter", jit = true, f = 'require("imbill.ffi.meter").logins',
      args = { M_SELF, V('{ "u1", "u2" }', '{ "u7" }', "{}", "H.users(3000)", "H.users(3000, 2500, 5)"),
        V("{ 1614556800, 1614556900 }", "{ 1614556800 }", "{}", "H.times(3000)", "H.times(3000, 1200, -1)") },
      prefix = "meter:logins", meter = true }
add { name = "ffi totals", area = "ffi_totals", jit = true, f = "imbill.totals", prefix = "imbill.totals",
      args = { T { { "book", O(BOOKNAME) }, { "edition", V('"pro"', '"standard"') },
        { "peak_dau", O(V("H.wide(3000)", "{ 9999, 10000, 10001 }", "7")) },
        { "groups_peak", O(V("H.wide(3000)", "250000")) }, { "mau", O(V("H.wide(3000)", "0")) } } } }

-- what-if: series, projections, grids -----------------------------------------
local GEN = V("S.constant(100)", "gen", "S.linear { start = 10, per_day = 2 }", "gen * fac", "gen + gen", "500")
add { name = "imbill.series.build", area = "whatif", f = "S.build", args = { T {
  { "from", V('"2021-01-01"', '"2021-01"') }, { "months", O(V("1", "2"), 0.8) }, { "days", O(V("10"), 0.1) },
  { "to", O(V('"2021-02-10"'), 0.1) }, { "dau", GEN }, { "groups", O(GEN) }, { "mau", O(GEN, 0.2) },
  { "mau_ratio", O(V('"3"', "2.5"), 0.3) }, { "features", O(FEATURES, 0.2) }, { "name", O(V('"n"'), 0.1) } } } }
add { name = "imbill.series.parse_csv", area = "whatif", f = "S.parse_csv", args = {
  V('"date,dau,groups\\n2021-03-01,10,5\\n2021-03-02,11,5\\n"', '"date,dau,groups,mau\\n2021-03-01,10,5,30\\n"'),
  O(T { { "missing", O(V('"zero"', '"carry"')) }, { "duplicates", O(V('"max"', '"last"')) },
    { "mau_ratio", O(V('"3"')) } }) } }
add { name = "imbill.series.read_csv", area = "whatif", f = "S.read_csv", args = {
  V("USAGE_CSV"), O(T { { "mau_ratio", O(V('"3"')) } }) } }
add { name = "imbill.series.from_table", area = "whatif", f = "S.from_table", args = { T {
  { "from", V('"2021-03-01"') }, { "dau", V("{ 1, 2, 3 }") }, { "groups", O(V("{ 4, 5, 6 }")) },
  { "mau", O(V("{ 7, 8, 9 }")) }, { "mau_ratio", O(V('"2"')) } } } }
add { name = "imbill.series.constant", area = "whatif", f = "S.constant", args = { V("5", "0", "100000") } }
add { name = "imbill.series.factor", area = "whatif", f = "S.factor", args = { V('"1.5"', "2", '"5%"') } }
add { name = "imbill.series.linear", area = "whatif", f = "S.linear", args = { T { { "start", O(V("10")) },
  { "per_day", O(V("2", '"2.5"', "-1")) }, { "per_month", O(V("100"), 0.3) } } } }
add { name = "imbill.series.compound", area = "whatif", f = "S.compound", args = { T { { "start", V("1000") },
  { "rate", O(V('"5%"', "0.05")) }, { "rate_bp", O(V("500"), 0.2) }, { "per", O(V('"day"', '"month"')) } } } }
add { name = "imbill.series.weekly", area = "whatif", f = "S.weekly", args = { V('{ sat = "1.2", sun = "1.2" }',
  '{ "1", "1", "1", "1", "1", "1.5", "1.5" }') } }
add { name = "imbill.series.step", area = "whatif", f = "S.step", args = { T { { "on", DATE },
  { "by", O(V("100")) }, { "times", O(V('"2"'), 0.3) } } } }
add { name = "imbill.series.ramp", area = "whatif", f = "S.ramp", args = { T { { "from", V('"2021-01-01"') },
  { "to", V('"2021-02-01"') }, { "start", O(V('"1"')) }, { "finish", O(V('"2"')) } } } }
add { name = "imbill.series.noise", area = "whatif", f = "S.noise", args = { T { { "seed", V("7", "1") },
  { "amplitude", O(V("5")) }, { "relative", O(V('"3%"'), 0.3) } } } }
add { name = "imbill.series.history", area = "whatif", f = "S.history", args = { V("s"), V('"dau"', '"groups"') } }
-- money or a column + generator is answered by its own metamethod (Lua asks the left operand first)
add { name = "series generator +", area = "whatif", f = "OP.add", args = { GEN, GEN },
      prefix = { "imbill.series", "imbill.money", "imbill.column" },
      needs = "gen" }
add { name = "series generator *", area = "whatif", f = "OP.mul", args = { GEN, V("fac", "gen") },
      prefix = { "imbill.series", "imbill.money", "imbill.column" }, needs = "gen" }
local function smethod(name, ...)
  add { name = "series:" .. name, area = "whatif", f = "s." .. name, args = { V("s", "smau"), ... } }
end
smethod("from") smethod("to") smethod("last_day") smethod("has_mau") smethod("month_numbers") smethod("months")
smethod("monthly") smethod("csv")
smethod("at", V('"2021-01-05"', '"2021-02-01"'), O(V('"dau"', '"groups"')))
smethod("month", V('"2021-01"', '"2021-02"'))
smethod("usage", V('"2021-01"', '"2021-02"'))
smethod("times", V("{ dau = fac }", '{ dau = S.ramp { from = "2021-01-01", to = "2021-02-01", finish = "2" } }'))
smethod("slice", V('"2021-01-05"', '"2021-01"'), V('"2021-02-01"', '"2021-02"'))
add { name = "series tostring", area = "whatif", f = "OP.tostring", args = { V("s") }, prefix = "series",
      needs = "imbill", operands = 1 }

local PROJECT = T {
  { "usage", V("s", "smau", '{ csv = "date,dau,groups\\n2021-03-01,10,5\\n" }') }, { "books", O(V('{ "2021" }',
  '{ "2020", "2022" }'), 0.8) }, { "editions", O(V('{ "2021/pro" }', '{ "2021/pro", "2021/ultimate" }')) },
  { "from", O(V('"2021-01"', '"2021-02"')) }, { "months", O(V("1", "2")) }, { "current", O(V('"2021/pro"')) },
  { "activated", O(V('"2021-01-10"')) }, { "needs", O(FEATURES) }, { "accounts", O(V("100")) },
  { "progress", O(V("function() end"), 0.1) },
}
add { name = "imbill.project", area = "whatif", f = "imbill.project", args = { PROJECT } }
local function pmethod(obj, cls, name, ...)
  add { name = cls .. ":" .. name, area = "whatif", f = obj .. "." .. name, args = { V(obj), ... } }
end
pmethod("p", "projection", "row", V('"2021/pro"', '"2021/ultimate"'))
pmethod("p", "projection", "cheapest") pmethod("p", "projection", "table") pmethod("p", "projection", "data")
pmethod("p", "projection", "csv")
add { name = "imbill.migration", area = "whatif", f = "imbill.migration", args = { T {
  { "usage", V("smau") }, { "from", O(V('"2021/pro"')) }, { "to", O(V('"2022/standard"')) },
  { "from_month", O(V('"2021-02"')) }, { "months", O(V("1")) }, { "needs", O(FEATURES, 0.2) } } } }
pmethod("mig", "migration", "verdict") pmethod("mig", "migration", "table") pmethod("mig", "migration", "data")
pmethod("mig", "migration", "csv")
local AXIS = { { "metric", O(V('"dau"', '"mau"', '"groups"')) }, { "from", O(V("0", "100")) },
  { "to", O(V("20000", "60000")) }, { "follow", O(V('{ mau = "3" }'), 0.3) },
  { "usage", O(V("{ groups_peak = 0 }"), 0.3) } }
local BT = { { "editions", O(V('{ "2021/pro", "2021/ultimate" }', '{ "2021/pro", "2022/standard" }'), 0.9) },
  { "book", O(V('"2021"'), 0.1) }, { "curves", O(V("false"), 0.2) } }
for _, a in ipairs(AXIS) do BT[#BT + 1] = a end
add { name = "imbill.breakeven_table", area = "whatif", f = "imbill.breakeven_table", args = { T(BT) } }
pmethod("bt", "breakeven_table", "table") pmethod("bt", "breakeven_table", "data")
pmethod("bt", "breakeven_table", "csv")
local CC = { { "edition", V('"2022/standard"', '"2021/pro"') }, { "max_points", O(V("100"), 0.1) } }
for _, a in ipairs(AXIS) do CC[#CC + 1] = a end
add { name = "imbill.cost_curve", area = "whatif", f = "imbill.cost_curve", args = { T(CC) } }
add { name = "imbill.shadow", area = "whatif", f = "imbill.shadow", args = { T {
  { "usage", V("s") }, { "base", V('"2020"') }, { "editions", O(V('{ "pro" }')) },
  { "shadow", V('{ base = "2020", editions = { pro = { monthly_fee = "129.99" } } }', "wb") },
  { "from", O(V('"2021-02"')) }, { "months", O(V("1")) }, { "activated", O(V('"2021-01-05"'), 0.2) } } } }
pmethod("sh", "shadow", "table") pmethod("sh", "shadow", "data") pmethod("sh", "shadow", "csv")
add { name = "imbill.grid", area = "whatif", f = "imbill.grid", args = { T {
  { "editions", O(V('{ "2021/pro" }', '{ "2021/pro", "2022/standard" }'), 0.9) },
  { "growth", O(V('{ "0%", "5%" }', '{ from = "0%", to = "10%", step = "5%" }'), 0.8) },
  { "growth_bp", O(V("{ 0, 100 }"), 0.1) },
  { "start_dau", V("{ 1000, 5000 }", "{ from = 1000, to = 20000, step = 1000 }") }, { "months", O(V("3", "12")) },
  { "groups", O(V("120000")) }, { "groups_per_dau", O(V('"1.5"')) }, { "mau_per_dau", O(V('"3"')) },
  { "progress", O(V("function() end"), 0.1) }, { "chunk", O(V("7", "100000"), 0.2) } } } }
local GI = V("1", "2", "40", "g:size()")
pmethod("g", "grid", "size") pmethod("g", "grid", "get", GI) pmethod("g", "grid", "cents", GI)
pmethod("g", "grid", "scenario", GI) pmethod("g", "grid", "index", V("1", "2"), V("1", "2"), V("1", "10"))
pmethod("g", "grid", "range", V('"2021/pro"', "1")) pmethod("g", "grid", "min", O(V('"2021/pro"')))
pmethod("g", "grid", "max", O(V('"2022/standard"'))) pmethod("g", "grid", "mean", O(V('"2021/pro"')))
pmethod("g", "grid", "percentile", V("95", '"99.9"', "50"), O(V('"2021/pro"')))
pmethod("g", "grid", "wins") pmethod("g", "grid", "summary", O(V('"2021/pro"')), O(V("{ 5, 95 }")))
pmethod("g", "grid", "by_edition", O(V("{ 50 }"))) pmethod("g", "grid", "totals", O(V("1")), O(V("10")))
add { name = "grid tostring", area = "whatif", f = "OP.tostring", args = { V("g") }, prefix = "grid",
      needs = "imbill", operands = 1 }

-- scenario columns, and totals and grids over them ----------------------------
local COL = V("col", "col2", "gcol")
local COUNTS = V("col", "col2", "{ 9999, 10000, 10001, 25000, 100000 }", "25000", "imbill.column(5, 7)")
add { name = "imbill.column", area = "column", f = "imbill.column", args = {
  V("5", "0", "{ 3, 1, 4 }", "{ from = 1, to = 100, step = 7 }", "{ from = -5, to = 5 }", "col", "gcol"),
  O(V("3", "-1", "0")) } }
add { name = "imbill.column.random", area = "column", f = "imbill.column.random", args = { T {
  { "n", V("10", "0", "1000") }, { "min", O(V("0", "-5", "100")) }, { "max", V("60000", "0", "5") },
  { "seed", O(V("1", "7", "-3")) } } } }
add { name = "imbill.column.from_csv", area = "column", f = "imbill.column.from_csv", args = {
  V("COL_CSV"), V('"dau"', '"groups"', '"note"', '" DAU "'), O(T { { "counts", O(V("true", "false")) } }) } }
add { name = "imbill.column.view", area = "column", jit = true, f = "imbill.column.view",
      args = { V("i64"), O(V("4", "2", "0")) } }
local function cmethod(name, ...)
  add { name = "column:" .. name, area = "column", f = "col." .. name, args = { COL, ... } }
end
local POS = V("1", "2", "5", "#col")
cmethod("get", POS) cmethod("set", POS, V("0", "42", "-7")) cmethod("sum") cmethod("mean") cmethod("min")
cmethod("max") cmethod("copy") cmethod("totable", O(V("1", "2")), O(V("3", "5")))
cmethod("percentile", V("95", '"99.9"', "0", "100")) cmethod("percentiles", V("{ 5, 50, 95 }", "{}"))
cmethod("summary", O(V("{ 50 }", "{ 5, 95 }"))) cmethod("grow", V('"5%"', '"-2%"', "0.05"), O(V("1", "12", "0")))
add { name = "column * ratio", area = "column", f = "OP.mul", args = { COL, V('"1.5"', "3", '"5%"', "0.25") },
      prefix = "imbill.column", needs = "column" }
add { name = "column +", area = "column", f = "OP.add", args = { COL, V("120000", "col", "col2", "-3") },
      prefix = "imbill.column", needs = "column" }
add { name = "column #", area = "column", f = "OP.len", args = { COL }, prefix = "column", needs = "column",
      operands = 1 }
add { name = "column tostring", area = "column", f = "OP.tostring", args = { COL }, prefix = "column",
      needs = "imbill", operands = 1 }
add { name = "imbill.totals columns", area = "column", f = "imbill.totals", prefix = "imbill.totals", args = { T {
  { "book", O(BOOKNAME) }, { "edition", V('"pro"', '"standard"') }, { "peak_dau", O(COUNTS, 0.9) },
  { "groups_peak", O(COUNTS) }, { "mau", O(COUNTS) }, { "threads", O(V("1", "2", "0")) },
  { "into", O(V("imbill.column(5)", "col", "gcol"), 0.3) } } } }
add { name = "imbill.totals editions", area = "column", f = "imbill.totals", prefix = "imbill.totals", args = { T {
  { "editions", V('{ "2020/pro", "2022/standard" }', '{ "2021/pro", "2021/ultimate", "2022/premium" }',
    '{ "2020/pro" }') },
  { "peak_dau", O(V("col", "{ 9999, 10000, 10001, 25000, 100000 }", "25000"), 0.9) },
  { "groups_peak", O(V("col2", "{ 1, 2, 3, 4, 5 }", "250000")) },
  { "mau", O(V("col", "{ 30000, 1, 2, 3, 4 }", "0"), 0.8) }, { "threads", O(V("1", "2")) } } } }
add { name = "grid:column", area = "column", f = "cgrid.column", args = { V("cgrid") }, prefix = "grid" }
add { name = "imbill.grid threads", area = "column", f = "imbill.grid", prefix = "imbill.grid", args = { T {
  { "editions", O(V('{ "2020/pro", "2021/pro" }')) }, { "start_dau", V("{ 1000, 5000 }") },
  { "months", O(V("3")) }, { "mau_per_dau", O(V('"3"')) }, { "threads", V("1", "2", "0", "3") } } } }

-- charts and the report -------------------------------------------------------
local CHART_OPTS = O(T { { "width", O(V("400")) }, { "height", O(V("300")) }, { "title", O(V('"t"')) } }, 0.3)
add { name = "imbill.chart.cost_curves", area = "report", f = "imbill.chart.cost_curves", args = { V("bt",
  '{ editions = { "2021/pro", "2021/ultimate" }, to = 30000 }'), CHART_OPTS } }
add { name = "imbill.chart.projection_bars", area = "report", f = "imbill.chart.projection_bars",
      args = { V("p"), CHART_OPTS } }
add { name = "imbill.chart.path_timeline", area = "report", f = "imbill.chart.path_timeline",
      args = { V("p"), CHART_OPTS } }
add { name = "imbill.chart.breakeven_lines", area = "report", f = "imbill.chart.breakeven_lines", args = { V("bt") } }
add { name = "imbill.report", area = "report", f = "imbill.report", args = { T {
  { "projection", O(V("p"), 0.8) }, { "breakeven", O(V("bt")) }, { "migration", O(V("mig")) },
  { "title", O(V('"T"', '"<script>"')) }, { "subtitle", O(V('"s"')) } } } }

--- Areas other engineers own (their findings are reported, not fixed here).
M.OTHERS = { whatif = true, bill = true, report = true, ffi_totals = true, meter_file = true }
-- What each area's fixtures need.
M.FIXTURE_AREAS = { base = true, replay = true, whatif = true, bill = true, column = true }
M.AREAS = { "money", "book", "invoice", "bill", "meter", "meter_file", "replay", "ffi_meter", "ffi_totals", "whatif",
            "report", "column" }

return M
