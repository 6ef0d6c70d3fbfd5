local H = require "helper"
local imbill = H.imbill
local money = imbill.money

local ALL = {
  "push_all", "multi_device", "local_search", "av_prejoin_history", "community",
  "read_receipts", "targeted_messages", "av_online_members", "av_broadcast",
  "user_status", "conversation_mark", "conversation_group", "av_member_ban",
}

-- Checks every limit of an edition against a row of docs/rules.md, Editions and
-- limits; nil = unlimited.
local function limits_are(ed, want)
  for k, v in pairs(want) do
    if v == "unlimited" then
      assert.is_nil(ed.limits[k], ed.id .. "." .. k .. " should be unlimited")
    else
      assert.same(v, ed.limits[k], ed.id .. "." .. k)
    end
  end
end

describe("price books", function()
  describe("names and dates (docs/rules.md, Price books)", function()
    it("ships 2020, 2021 and 2022", function()
      assert.same({ "2020", "2021", "2022" }, imbill.books)
      for _, name in ipairs(imbill.books) do assert.equal(name, imbill.book(name).name) end
    end)
    it("2020 was in force 2020-02-19 .. 2021-08-05", function()
      local b = imbill.book("2020")
      assert.equal("2020-02-19", b.from)
      assert.equal("2021-08-05", b.to)
    end)
    it("2021 was in force 2021-08-06 .. 2022-12-25", function()
      local b = imbill.book("2021")
      assert.equal("2021-08-06", b.from)
      assert.equal("2022-12-25", b.to)
    end)
    it("2022 is in force from 2022-12-26 (to is nil)", function()
      local b = imbill.book("2022")
      assert.equal("2022-12-26", b.from)
      assert.is_nil(b.to)
    end)
    it("book_at picks the book a new app was sold on that day", function()
      assert.equal("2020", imbill.book_at("2020-02-19").name)
      assert.equal("2020", imbill.book_at("2021-03-15").name)
      assert.equal("2020", imbill.book_at("2021-08-05").name)
      assert.equal("2021", imbill.book_at("2021-08-06").name)
      assert.equal("2021", imbill.book_at("2022-12-25").name)
      assert.equal("2022", imbill.book_at("2022-12-26").name)
      assert.equal("2022", imbill.book_at("2030-01-01").name)
    end)
    it("book_at has no book before 2020-02-19", function()
      assert.matches("^imbill.book_at: date: no price book", H.err(imbill.book_at, "2020-02-18"))
    end)
    it("returns the same object for the same name, and a book as it is", function()
      local b = imbill.book("2021")
      assert.equal(b, imbill.book("2021"))
      assert.equal(b, imbill.book(b))
      assert.is_true(imbill.is_book(b))
      assert.is_false(imbill.is_book({}))
    end)
    it("bills in UTC+8 by default", function()
      assert.equal(28800, imbill.book("2020").offset)
      assert.equal("+08:00", imbill.book("2022").tz)
    end)
    it("lists editions cheapest first", function()
      assert.same({ "trial", "pro", "flagship" }, imbill.book("2020"):editions())
      assert.same({ "free", "pro", "ultimate" }, imbill.book("2021"):editions())
      assert.same({ "developer", "standard", "premium" }, imbill.book("2022"):editions())
    end)
  end)

  describe("monthly fees and usage charges (docs/rules.md, Price books)", function()
    local function fee(b, e) return tostring(imbill.book(b):edition(e).monthly_fee) end
    it("2020: trial 0, pro 149.99, flagship 449.99", function()
      assert.equal("0.00", fee("2020", "trial"))
      assert.equal("149.99", fee("2020", "pro"))
      assert.equal("449.99", fee("2020", "flagship"))
    end)
    it("2021: free 0, pro 449.99, ultimate 899.99", function()
      assert.equal("0.00", fee("2021", "free"))
      assert.equal("449.99", fee("2021", "pro"))
      assert.equal("899.99", fee("2021", "ultimate"))
    end)
    it("2022: developer 0, standard 399.00, premium 699.00", function()
      assert.equal("0.00", fee("2022", "developer"))
      assert.equal("399.00", fee("2022", "standard"))
      assert.equal("699.00", fee("2022", "premium"))
    end)
    it("2020 paid editions: 149.99 per 10,000 DAU over 10,000 and per 100,000 groups over 100,000", function()
      for _, e in ipairs { "pro", "flagship" } do
        local c = imbill.book("2020"):edition(e).charges
        assert.same({ 10000, 10000, "149.99" }, { c.dau.free, c.dau.block, tostring(c.dau.price) })
        assert.same({ 100000, 100000, "149.99" }, { c.groups.free, c.groups.block, tostring(c.groups.price) })
        assert.is_nil(c.mau)
      end
    end)
    it("2021 paid editions: 449.99 per 10,000 DAU over 10,000 and per 100,000 groups over 100,000", function()
      for _, e in ipairs { "pro", "ultimate" } do
        local c = imbill.book("2021"):edition(e).charges
        assert.same({ 10000, 10000, "449.99" }, { c.dau.free, c.dau.block, tostring(c.dau.price) })
        assert.same({ 100000, 100000, "449.99" }, { c.groups.free, c.groups.block, tostring(c.groups.price) })
      end
    end)
    it("2022 paid editions: 0.015 per user over 10,000 MAU, no blocks, no group charge", function()
      for _, e in ipairs { "standard", "premium" } do
        local c = imbill.book("2022"):edition(e).charges
        assert.same({ 10000, 1, "0.015" }, { c.mau.free, c.mau.block, tostring(c.mau.price) })
        assert.is_nil(c.groups)
        assert.is_nil(c.dau)
      end
    end)
    it("free editions are free and carry no usage charge", function()
      for _, be in ipairs { { "2020", "trial" }, { "2021", "free" }, { "2022", "developer" } } do
        local ed = imbill.book(be[1]):edition(be[2])
        assert.is_true(ed.free)
        assert.is_nil(ed.charges.dau)
        assert.is_nil(ed.charges.mau)
      end
    end)
  end)

  describe("limits of 2020 and 2021 (docs/rules.md, Editions and limits)", function()
    local free = {
      accounts = 100, friends_per_user = 20, groups_per_user = 50, members_per_group = 20,
      non_av_groups = 100, av_groups = 10, daily_net_groups = 10000, bchatroom_daily = 5,
      history_days = 7, free_dau = 100, free_groups = 100000,
    }
    local pro = {
      accounts = "unlimited", friends_per_user = 3000, groups_per_user = 500, members_per_group = 200,
      non_av_groups = "unlimited", av_groups = 50, daily_net_groups = 10000, bchatroom_daily = 5,
      history_days = 7, free_dau = 10000, free_groups = 100000,
    }
    local top = {
      accounts = "unlimited", friends_per_user = 3000, groups_per_user = 1000,
      non_av_groups = "unlimited", av_groups = "unlimited", daily_net_groups = 10000, bchatroom_daily = 5,
      history_days = 30, free_dau = 10000, free_groups = 100000,
    }
    it("trial and free", function()
      limits_are(imbill.book("2020"):edition("trial"), free)
      limits_are(imbill.book("2021"):edition("free"), free)
    end)
    it("pro", function()
      limits_are(imbill.book("2020"):edition("pro"), pro)
      limits_are(imbill.book("2021"):edition("pro"), pro)
    end)
    it("flagship and ultimate", function()
      limits_are(imbill.book("2020"):edition("flagship"), top)
      limits_are(imbill.book("2021"):edition("ultimate"), top)
    end)
    it("members per group: flagship 200 in Private/Work groups, 2,000 in Public and ChatRoom/Meeting", function()
      local f = imbill.book("2020"):edition("flagship")
      assert.equal(200, f:members_limit("Private"))
      assert.equal(2000, f:members_limit("Public"))
      assert.equal(2000, f:members_limit("ChatRoom"))
    end)
    it("members per group: 2021 ultimate 2,000 in every group type", function()
      local u = imbill.book("2021"):edition("ultimate")
      for _, g in ipairs { "Private", "Public", "ChatRoom", "Community" } do assert.equal(2000, u:members_limit(g)) end
    end)
    it("members per group: 20 on trial, 200 on pro, none for AV rooms", function()
      assert.equal(20, imbill.book("2020"):edition("trial"):members_limit("Public"))
      assert.equal(200, imbill.book("2021"):edition("pro"):members_limit("Private"))
      assert.is_nil(imbill.book("2021"):edition("pro"):members_limit("AVChatRoom"))
    end)
  end)

  describe("limits of 2022 (docs/rules.md, Editions and limits)", function()
    it("developer", function()
      limits_are(imbill.book("2022"):edition("developer"), {
        accounts = 100, friends_per_user = 20, groups_per_user = 50, members_per_group = 20, non_av_groups = 100,
        av_groups = 10, daily_net_groups = 100, bchatroom_daily = 5, history_days = 7, free_mau = 100,
      })
    end)
    it("standard", function()
      limits_are(imbill.book("2022"):edition("standard"), {
        accounts = "unlimited", friends_per_user = 3000, groups_per_user = 500, members_per_group = 200,
        non_av_groups = "unlimited", av_groups = 50, daily_net_groups = 10000, bchatroom_daily = 5,
        history_days = 7, free_mau = 10000,
      })
    end)
    it("premium", function()
      limits_are(imbill.book("2022"):edition("premium"), {
        accounts = "unlimited", friends_per_user = 3000, groups_per_user = 1000, members_per_group = 2000,
        non_av_groups = "unlimited", av_groups = "unlimited", daily_net_groups = 10000, bchatroom_daily = 5,
        history_days = 30, free_mau = 10000,
      })
    end)
  end)

  describe("features (docs/rules.md, Features)", function()
    local F2020 = { push_all = true, multi_device = true, local_search = true }
    it("2020: only flagship has push to all, multi-device and local search", function()
      local b = imbill.book("2020")
      for _, f in ipairs(ALL) do
        assert.is_false(b:edition("trial"):supports(f), "trial " .. f)
        assert.is_false(b:edition("pro"):supports(f), "pro " .. f)
        assert.equal(F2020[f] == true, b:edition("flagship"):supports(f), "flagship " .. f)
      end
    end)
    it("2021: ultimate has all thirteen, free and pro none", function()
      local b = imbill.book("2021")
      for _, f in ipairs(ALL) do
        assert.is_true(b:edition("ultimate"):supports(f), f)
        assert.is_false(b:edition("pro"):supports(f), f)
        assert.is_false(b:edition("free"):supports(f), f)
      end
    end)
    it("2022: developer and premium have all thirteen, standard none", function()
      local b = imbill.book("2022")
      for _, f in ipairs(ALL) do
        assert.is_true(b:edition("developer"):supports(f), f)
        assert.is_true(b:edition("premium"):supports(f), f)
        assert.is_false(b:edition("standard"):supports(f), f)
      end
    end)
  end)

  describe("add-ons (docs/rules.md, Add-ons)", function()
    local function addon(b, id) return imbill.book(b):addon(id) end
    local function fees(b, id)
      local out = {}
      for ed, f in pairs(addon(b, id).fee) do out[ed] = tostring(f) end
      return out
    end
    it("2020 fees", function()
      assert.same({ pro = "149.99" }, fees("2020", "av_unlimited"))
      assert.same({ pro = "79.99", flagship = "79.99" }, fees("2020", "members_per_group"))
      assert.same({ pro = "149.99", flagship = "149.99" }, fees("2020", "groups_per_user"))
      assert.same({ pro = "79.99" }, fees("2020", "retention_30"))
      assert.same({ pro = "149.99", flagship = "79.99" }, fees("2020", "retention_90"))
      assert.same({ pro = "229.99", flagship = "149.99" }, fees("2020", "retention_180"))
      assert.same({ pro = "379.99", flagship = "299.99" }, fees("2020", "retention_360"))
    end)
    it("2021 fees", function()
      assert.same({ pro = "449.99" }, fees("2021", "av_unlimited"))
      assert.same({ pro = "239.99", ultimate = "239.99" }, fees("2021", "members_per_group"))
      assert.same({ pro = "449.99", ultimate = "449.99" }, fees("2021", "groups_per_user"))
      assert.same({ pro = "99.99" }, fees("2021", "retention_30"))
      assert.same({ pro = "179.99", ultimate = "99.99" }, fees("2021", "retention_90"))
      assert.same({ pro = "269.99", ultimate = "179.99" }, fees("2021", "retention_180"))
      assert.same({ pro = "399.99", ultimate = "319.99" }, fees("2021", "retention_360"))
    end)
    it("what they raise; false means unlimited", function()
      assert.same({ av_groups = { pro = false } }, addon("2020", "av_unlimited").raises)
      assert.same({ members_per_group = { pro = 2000, flagship = 6000 } }, addon("2020", "members_per_group").raises)
      assert.same({ groups_per_user = { pro = 1000, flagship = 3000 } }, addon("2020", "groups_per_user").raises)
      assert.same({ members_per_group = { pro = 2000, ultimate = 6000 } }, addon("2021", "members_per_group").raises)
      assert.same({ groups_per_user = { pro = 1000, ultimate = 3000 } }, addon("2021", "groups_per_user").raises)
      assert.same({ history_days = { pro = 360, ultimate = 360 } }, addon("2021", "retention_360").raises)
    end)
    it("AV, members and groups-per-user add-ons are free in their activation month; retention is not", function()
      for _, b in ipairs { "2020", "2021" } do
        assert.is_true(addon(b, "av_unlimited").activation_month_free)
        assert.is_true(addon(b, "members_per_group").activation_month_free)
        assert.is_true(addon(b, "groups_per_user").activation_month_free)
        assert.is_false(addon(b, "retention_90").activation_month_free)
      end
    end)
    it("2022 has none", function()
      assert.matches("has no such add%-on %(it has: none%)", H.err(imbill.book("2022").addon, imbill.book("2022"),
        "av_unlimited"))
    end)
  end)

  describe("policies (docs/rules.md, Plan fee)", function()
    it("2020 waives the plan fee in the activation month and allows going back to trial", function()
      local p = imbill.book("2020").policy
      assert.is_true(p.activation_month_free)
      assert.is_true(p.return_to_free)
    end)
    it("2021 waives it only before 2022-10-18, and never goes back to free", function()
      local p = imbill.book("2021").policy
      assert.same({ before = "2022-10-18" }, p.activation_month_free)
      assert.is_false(p.return_to_free)
    end)
    it("2022 charges by day and never goes back to free", function()
      local p = imbill.book("2022").policy
      assert.is_false(p.activation_month_free)
      assert.is_false(p.return_to_free)
    end)
  end)

  describe("user books for what-if", function()
    it("derive from a built-in and change a fee, leaving the base alone", function()
      local b = imbill.book { base = "2020", name = "what-if", editions = { pro = { monthly_fee = "129.99" } } }
      assert.equal("what-if", b.name)
      assert.equal(money("129.99"), b:edition("pro").monthly_fee)
      assert.equal(money("149.99"), imbill.book("2020"):edition("pro").monthly_fee)
      assert.equal(money("449.99"), b:edition("flagship").monthly_fee)
      assert.equal("2020-02-19", b.from)
      local inv = imbill.invoice { book = b, edition = "pro", month = "2021-03", peak_dau = 10001 }
      assert.equal("279.98", tostring(inv.total))
    end)
    it("take 149.99, \"149.99\" and money(\"149.99\") as the same price", function()
      local a = imbill.book { base = "2020", editions = { pro = { monthly_fee = 129.99 } } }
      local b = imbill.book { base = "2020", editions = { pro = { monthly_fee = "129.99" } } }
      local c = imbill.book { base = "2020", editions = { pro = { monthly_fee = money("129.99") } } }
      assert.equal(a:edition("pro").monthly_fee, b:edition("pro").monthly_fee)
      assert.equal(b:edition("pro").monthly_fee, c:edition("pro").monthly_fee)
    end)
    it("change unit prices, block sizes, free quotas, limits and features", function()
      local b = imbill.book { base = "2021", editions = { pro = {
        dau = { price = "300", block = 5000, free = 20000 },
        limits = { accounts = 5000, av_groups = "unlimited" },
        features = { "read_receipts" },
      } } }
      local pro = b:edition("pro")
      assert.equal(5000, pro.charges.dau.block)
      assert.equal(20000, pro.charges.dau.free)
      assert.equal(5000, pro.limits.accounts)
      assert.is_nil(pro.limits.av_groups)
      assert.is_true(pro:supports("read_receipts"))
      assert.equal(200, pro.limits.members_per_group)
      -- 20,001 DAU: one block of 5,000 over 20,000 free
      local inv = imbill.invoice { book = b, edition = "pro", month = "2022-03", peak_dau = 20001 }
      assert.equal("749.99", tostring(inv.total))
    end)
    it("hold a paid edition's free DAU, groups and MAU once: limits.free_dau is dau.free", function()
      -- either field sets the number the invoice bills and limits shows
      local by_limit = imbill.book { base = "2020", name = "by-limit", editions = { pro = { limits = { free_dau = 2 } } } }
      local by_charge = imbill.book { base = "2020", name = "by-charge", editions = { pro = { dau = { free = 2 } } } }
      for _, b in ipairs { by_limit, by_charge } do
        local pro = b:edition("pro")
        assert.equal(2, pro.limits.free_dau)
        assert.equal(2, pro.charges.dau.free)
        -- 3 DAU: one block of 10,000 over 2 free
        assert.equal("299.98", tostring(imbill.invoice { book = b, edition = "pro", month = "2021-03", peak_dau = 3 }.total))
      end
      -- the built-in editions show their charges' quotas
      assert.equal(10000, imbill.book("2021"):edition("pro").limits.free_dau)
      assert.equal(100000, imbill.book("2021"):edition("pro").limits.free_groups)
      assert.equal(10000, imbill.book("2022"):edition("premium").limits.free_mau)
      -- on a free edition, which bills nothing, limits.free_dau is the cap
      assert.equal(100, imbill.book("2020"):edition("trial").limits.free_dau)
      -- a MAU quota set through limits on an edition like standard is billed
      local n = imbill.book { base = "2022", name = "n", editions = { biz = { like = "standard", limits = { free_mau = 50 } } } }
      local inv = imbill.invoice { book = n, edition = "biz", month = "2023-03", mau = 60, peak_dau = 1 }
      assert.equal("399.15", tostring(inv.total))
      -- two different numbers for the one quota, or a quota that is no count, are refused
      assert.equal("imbill.book: editions.pro.limits.free_dau: is the free quota of the dau charge, given as 2 in"
        .. " editions.pro.dau.free: set one, got 3",
        H.err(imbill.book, { base = "2020", name = "w", editions = { pro = { dau = { free = 2 }, limits = { free_dau = 3 } } } }))
      assert.equal("imbill.book: editions.pro.limits.free_dau: is the free quota of the dau charge: a whole number >= 0,"
        .. " got \"unlimited\"",
        H.err(imbill.book, { base = "2020", name = "w", editions = { pro = { limits = { free_dau = "unlimited" } } } }))
      assert.equal("imbill.book: editions.pro.limits.free_dau: must not be negative, got -1",
        H.err(imbill.book, { base = "2020", name = "w", editions = { pro = { limits = { free_dau = -1 } } } }))
      -- pro made free keeps its 10,000 free DAU as the cap it serves up to
      local f = imbill.book { base = "2020", name = "f", editions = { pro = { free = true, monthly_fee = "0" } } }
      assert.equal(10000, f:edition("pro").limits.free_dau)
      local row = imbill.compare { month = "2021-03", peak_dau = 10001, books = { f }, editions = { "pro" } }[1]
      assert.is_false(row.eligible)
      -- trial made paid with a DAU charge bills above its 100 free DAU: 150 is 5
      -- blocks of 10 at 1.00, with the 10.00 fee
      local p = imbill.book { base = "2020", name = "p", editions = { trial = { free = false, monthly_fee = "10",
                                                                              dau = { block = 10, price = "1" } } } }
      assert.equal(100, p:edition("trial").charges.dau.free)
      assert.equal("15.00", tostring(imbill.invoice { book = p, edition = "trial", month = "2021-03", peak_dau = 150 }.total))
      -- an add-on cannot raise a free quota, which only the charge holds
      assert.equal('imbill.book: addons.more.raises: is a free quota, which the edition\'s charge holds: an add-on'
        .. ' cannot raise it, got "free_dau"',
        H.err(imbill.book, { base = "2020", name = "a", addons = { more = { fee = { pro = "1" },
                                                                          raises = { free_dau = { pro = 20000 } } } } }))
    end)
    it("add editions, from scratch or like an existing one", function()
      local b = imbill.book { base = "2022", editions = {
        lite = { monthly_fee = "99", mau = { free = 1000, block = 1, price = "0.02" }, limits = { accounts = 5000 } },
        plus = { like = "premium", monthly_fee = "999" },
      } }
      assert.same({ "developer", "lite", "standard", "premium", "plus" }, b:editions())
      assert.equal(money("999"), b:edition("plus").monthly_fee)
      assert.is_true(b:edition("plus"):supports("community"))
      local inv = imbill.invoice { book = b, edition = "lite", month = "2023-03", mau = 1500 }
      assert.equal("109.00", tostring(inv.total))
    end)
    it("remove editions", function()
      local b = imbill.book { base = "2020", remove = { "trial" } }
      assert.same({ "pro", "flagship" }, b:editions())
    end)
    it("derive from a user book", function()
      local a = imbill.book { base = "2020", name = "a", editions = { pro = { monthly_fee = "1" } } }
      local b = imbill.book { base = a, name = "b", editions = { flagship = { monthly_fee = "2" } } }
      assert.equal(money("1"), b:edition("pro").monthly_fee)
      assert.equal(money("2"), b:edition("flagship").monthly_fee)
    end)
    it("set their own dates and time zone", function()
      local b = imbill.book { base = "2022", from = "2024-01-01", tz = "+00:00" }
      assert.equal("2024-01-01", b.from)
      assert.is_nil(b.to)
      assert.equal(0, b.offset)
    end)

    describe("are validated on creation; the error names the key", function()
      local function bad(spec, pattern)
        local e = H.err(imbill.book, spec)
        assert.matches("^imbill.book", e)
        assert.matches(pattern, e)
      end
      it("unknown base", function() bad({ base = "1999" }, "base: unknown price book") end)
      it("base of the wrong type", function() bad({ base = 2020 }, "base: expected a book name") end)
      it("unknown top-level key", function() bad({ base = "2020", edition = {} }, "edition: unknown field") end)
      it("bad fee", function() bad({ base = "2020", editions = { pro = { monthly_fee = "abc" } } },
        "editions.pro.monthly_fee: not an amount") end)
      it("negative fee", function() bad({ base = "2020", editions = { pro = { monthly_fee = "-1" } } },
        "editions.pro.monthly_fee: must not be negative") end)
      it("fee with 7 decimals", function() bad({ base = "2020", editions = { pro = { monthly_fee = 0.1234567 } } },
        "editions.pro.monthly_fee") end)
      it("misspelt edition key", function() bad({ base = "2020", editions = { pro = { monthly_fe = "1" } } },
        "monthly_fe: unknown field") end)
      it("unknown limit", function() bad({ base = "2020", editions = { pro = { limits = { acounts = 1 } } } },
        "editions.pro.limits.acounts: unknown limit") end)
      it("negative limit", function() bad({ base = "2020", editions = { pro = { limits = { accounts = -1 } } } },
        "editions.pro.limits.accounts: must not be negative") end)
      it("fractional limit", function() bad({ base = "2020", editions = { pro = { limits = { accounts = 1.5 } } } },
        "editions.pro.limits.accounts: expected a whole number") end)
      it("unknown feature", function() bad({ base = "2020", editions = { pro = { features = { "teleport" } } } },
        "editions.pro.features%[1%]: unknown feature") end)
      it("block 0 with a price", function() bad({ base = "2020", editions = { pro = { dau = { block = 0 } } } },
        "editions.pro.dau.block: a priced charge needs a block size") end)
      it("unknown charge key", function() bad({ base = "2020", editions = { pro = { dau = { blocks = 5 } } } },
        "blocks: unknown field") end)
      it("negative unit price", function() bad({ base = "2020", editions = { pro = { dau = { price = "-1" } } } },
        "editions.pro.dau.price: must not be negative") end)
      it("edition given as a number", function() bad({ base = "2020", editions = { pro = 5 } },
        "editions.pro: expected a table") end)
      it("like an unknown edition", function() bad({ base = "2020", editions = { x = { like = "gold" } } },
        "editions.x.like: no such edition") end)
      it("removing an unknown edition", function() bad({ base = "2020", remove = { "gold" } },
        "remove: no such edition") end)
      it("removing every edition", function() bad({ base = "2020", remove = { "trial", "pro", "flagship" } },
        "editions: a book needs at least one edition") end)
      it("malformed from", function() bad({ base = "2020", from = "2020-13-01" }, "from: no such date") end)
      it("to before from", function() bad({ base = "2020", from = "2021-01-01", to = "2020-01-01" },
        "to: is before from") end)
      it("malformed tz", function() bad({ base = "2020", tz = "+25:00" }, "tz: offset") end)
      it("bad policy", function() bad({ base = "2020", policy = { activation_month_free = "x" } },
        "policy.activation_month_free") end)
      it("add-on raising an unknown limit", function()
        bad({ base = "2020", addons = { x = { fee = { pro = "1" }, raises = { foo = { pro = 1 } } } } },
          "addons.x.raises: unknown limit")
      end)
      it("add-on for an unknown edition", function()
        bad({ base = "2020", addons = { x = { fee = { gold = "1" } } } }, "addons.x.fee: no such edition")
      end)
      it("a book name of the wrong type", function()
        assert.matches("^imbill.book: book: expected a book name", H.err(imbill.book, 2020))
        assert.matches("^imbill.book: name: unknown price book", H.err(imbill.book, "2019"))
        assert.matches("^imbill.book: name: unknown price book", H.err(imbill.book, "trtc"))
      end)
    end)
  end)

  describe("book:edition and edition:supports", function()
    it("refuse unknown editions and features, naming them", function()
      local b = imbill.book("2021")
      assert.matches("edition: price book 2021 has no such edition %(it has: free, pro, ultimate%), got \"gold\"",
        H.err(b.edition, b, "gold"))
      assert.matches("got nil", H.err(b.edition, b, nil))
      local ed = b:edition("pro")
      assert.matches("feature: unknown feature .*got \"teleport\"", H.err(ed.supports, ed, "teleport"))
      assert.matches("feature: unknown feature .*got 5", H.err(ed.supports, ed, 5))
    end)
  end)
end)

describe("user books: a per-type member limit", function()
  it("changes the types it names and keeps the base edition's limit for the others", function()
    local b = imbill.book { base = "2020", name = "members",
                            editions = { pro = { limits = { members_per_group = { Work = 300 } } } } }
    local e = b:edition("pro")
    assert.equal(300, e:members_limit("Private"))
    assert.equal(200, e:members_limit("Public"))
    assert.equal(200, e:members_limit("ChatRoom"))
    assert.equal(200, e:members_limit("Community"))
    assert.is_nil(e:members_limit("AVChatRoom"))
    -- a base that already has a table keeps its other rows
    local b2 = imbill.book { base = b, name = "members2",
                             editions = { pro = { limits = { members_per_group = { Public = 999 } } } } }
    assert.equal(300, b2:edition("pro"):members_limit("Private"))
    assert.equal(999, b2:edition("pro"):members_limit("Public"))
  end)
end)

describe("user books: removing an edition", function()
  it("also drops it from the add-ons' fees and raised limits", function()
    local b = imbill.book { base = "2020", remove = { "flagship" } }
    assert.same({ "trial", "pro" }, b:editions())
    local a = b:addon("members_per_group")
    assert.is_nil(a.fee.flagship)
    assert.is_nil(a.raises.members_per_group.flagship)
    assert.equal(2000, a.raises.members_per_group.pro)
  end)
end)
