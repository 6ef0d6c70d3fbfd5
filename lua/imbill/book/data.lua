--- The built-in price books, as data (Tencent Cloud IM, USD): each table below
-- is a row-by-row copy of docs/rules.md, "Price books", "Editions and limits",
-- "Add-ons", "Plan fee" and "Arrears".  Amounts are decimal strings; nil in a
-- limit means unlimited.  imbill.book() turns these into checked book objects.
local UNLIMITED = nil

-- The features only some editions have.
local FEATURES_2020 = { "push_all", "multi_device", "local_search" }
local FEATURES_ALL = {
  "push_all", "multi_device", "local_search", "av_prejoin_history", "community",
  "read_receipts", "targeted_messages", "av_online_members", "av_broadcast",
  "user_status", "conversation_mark", "conversation_group", "av_member_ban",
}

-- Limits shared by the free editions of 2020 and 2021.
local function free_limits()
  return {
    accounts = 100, friends_per_user = 20, groups_per_user = 50, members_per_group = 20,
    non_av_groups = 100, av_groups = 10, daily_net_groups = 10000, bchatroom_daily = 5,
    bchatroom_total = 5, history_days = 7, free_dau = 100, free_groups = 100000,
  }
end

-- Arrears (the same for every book): a month's bill falls due, and is pushed,
-- on the 3rd of the next month; the app is suspended when it stays unpaid for
-- more than 7 days counting the push day (1 day for bills due from
-- 2022-08-29), and its data is kept 90 days counting the suspension day, then
-- deleted.
local ARREARS = { due_day = 3, grace = { { before = "2022-08-29", days = 7 }, { days = 1 } }, keep_days = 90 }

local function paid_limits(t)
  local l = {
    accounts = UNLIMITED, friends_per_user = 3000, non_av_groups = UNLIMITED,
    daily_net_groups = 10000, bchatroom_daily = 5, bchatroom_total = 5,
  }
  for k, v in pairs(t) do l[k] = v end
  return l
end

return {
  -- The DAU era of Tencent's 2020 pages.
  ["2020"] = {
    from = "2020-02-19", to = "2021-08-05",
    policy = {
      activation_month_free = true,  -- no plan fee in the month of first paid activation
      return_to_free = true,         -- 2020 allows going back to trial
    },
    arrears = ARREARS,
    editions = {
      trial = { monthly_fee = "0", free = true, limits = free_limits() },
      pro = {
        monthly_fee = "149.99",
        limits = paid_limits { groups_per_user = 500, members_per_group = 200, av_groups = 50,
                               history_days = 7 },
        dau = { free = 10000, block = 10000, price = "149.99" },
        groups = { free = 100000, block = 100000, price = "149.99" },
      },
      flagship = {
        monthly_fee = "449.99",
        limits = paid_limits {
          groups_per_user = 1000, av_groups = UNLIMITED, history_days = 30,
          members_per_group = { Private = 200, Public = 2000, ChatRoom = 2000, Community = 2000 },
        },
        features = FEATURES_2020,
        dau = { free = 10000, block = 10000, price = "149.99" },
        groups = { free = 100000, block = 100000, price = "149.99" },
      },
    },
    -- Value-added services: fee per edition, and what they raise.
    addons = {
      av_unlimited = { fee = { pro = "149.99" }, raises = { av_groups = { pro = "unlimited" } },
                       activation_month_free = true },
      members_per_group = { fee = { pro = "79.99", flagship = "79.99" },
                            raises = { members_per_group = { pro = 2000, flagship = 6000 } },
                            activation_month_free = true },
      groups_per_user = { fee = { pro = "149.99", flagship = "149.99" },
                          raises = { groups_per_user = { pro = 1000, flagship = 3000 } },
                          activation_month_free = true },
      retention_30 = { fee = { pro = "79.99" }, raises = { history_days = { pro = 30 } } },
      retention_90 = { fee = { pro = "149.99", flagship = "79.99" },
                       raises = { history_days = { pro = 90, flagship = 90 } } },
      retention_180 = { fee = { pro = "229.99", flagship = "149.99" },
                        raises = { history_days = { pro = 180, flagship = 180 } } },
      retention_360 = { fee = { pro = "379.99", flagship = "299.99" },
                        raises = { history_days = { pro = 360, flagship = 360 } } },
    },
  },

  -- The "original billing mode"; ultimate is the renamed flagship.
  ["2021"] = {
    from = "2021-08-06", to = "2022-12-25",
    policy = {
      activation_month_free = { before = "2022-10-18" },  -- then charged by day
      return_to_free = false,
    },
    arrears = ARREARS,
    editions = {
      free = { monthly_fee = "0", free = true, limits = free_limits() },
      pro = {
        monthly_fee = "449.99",
        limits = paid_limits { groups_per_user = 500, members_per_group = 200, av_groups = 50,
                               history_days = 7 },
        dau = { free = 10000, block = 10000, price = "449.99" },
        groups = { free = 100000, block = 100000, price = "449.99" },
      },
      ultimate = {
        monthly_fee = "899.99",
        limits = paid_limits { groups_per_user = 1000, members_per_group = 2000,
                               av_groups = UNLIMITED, history_days = 30 },
        features = FEATURES_ALL,
        dau = { free = 10000, block = 10000, price = "449.99" },
        groups = { free = 100000, block = 100000, price = "449.99" },
      },
    },
    addons = {
      av_unlimited = { fee = { pro = "449.99" }, raises = { av_groups = { pro = "unlimited" } },
                       activation_month_free = true },
      members_per_group = { fee = { pro = "239.99", ultimate = "239.99" },
                            raises = { members_per_group = { pro = 2000, ultimate = 6000 } },
                            activation_month_free = true },
      groups_per_user = { fee = { pro = "449.99", ultimate = "449.99" },
                          raises = { groups_per_user = { pro = 1000, ultimate = 3000 } },
                          activation_month_free = true },
      retention_30 = { fee = { pro = "99.99" }, raises = { history_days = { pro = 30 } } },
      retention_90 = { fee = { pro = "179.99", ultimate = "99.99" },
                       raises = { history_days = { pro = 90, ultimate = 90 } } },
      retention_180 = { fee = { pro = "269.99", ultimate = "179.99" },
                        raises = { history_days = { pro = 180, ultimate = 180 } } },
      retention_360 = { fee = { pro = "399.99", ultimate = "319.99" },
                        raises = { history_days = { pro = 360, ultimate = 360 } } },
    },
  },

  -- The MAU era.
  ["2022"] = {
    from = "2022-12-26", to = nil,
    policy = {
      activation_month_free = false,  -- every change is charged by day
      return_to_free = false,
    },
    arrears = ARREARS,
    editions = {
      developer = {
        monthly_fee = "0", free = true, features = FEATURES_ALL,
        limits = {
          accounts = 100, friends_per_user = 20, groups_per_user = 50, members_per_group = 20,
          non_av_groups = 100, av_groups = 10, daily_net_groups = 100, bchatroom_daily = 5,
          bchatroom_total = 5, history_days = 7, free_mau = 100,
        },
      },
      standard = {
        monthly_fee = "399.00",
        limits = {
          accounts = UNLIMITED, friends_per_user = 3000, groups_per_user = 500,
          members_per_group = 200, non_av_groups = UNLIMITED, av_groups = 50,
          daily_net_groups = 10000, bchatroom_daily = 5, bchatroom_total = 5, history_days = 7,
        },
        mau = { free = 10000, block = 1, price = "0.015" },
      },
      premium = {
        monthly_fee = "699.00", features = FEATURES_ALL,
        limits = {
          accounts = UNLIMITED, friends_per_user = 3000, groups_per_user = 1000,
          members_per_group = 2000, non_av_groups = UNLIMITED, av_groups = UNLIMITED,
          daily_net_groups = 10000, bchatroom_daily = 5, bchatroom_total = 5, history_days = 30,
        },
        mau = { free = 10000, block = 1, price = "0.015" },
      },
    },
    addons = {},
  },

  -- TRTC call minutes, USD per 1,000 minutes (accounts from 2021-10-27); the
  -- tiers and the order the 10,000 free minutes are used in are the core's.
  trtc = {
    price_per_1000 = { audio = "0.99", hd = "3.99", fhd = "8.99", ["2k"] = "15.99", ["4k"] = "35.99" },
    free_minutes = 10000,
  },
}
