--- When a price book can be used.  A book is in force in a month when it
-- starts on or before the month's last day (a book starting on the 26th
-- serves that month).  Before that the book did not exist: any price from it
-- is a what-if, and every entry point says so the same way, through
-- M.before: an invoice carries a note, compare, project, migration and
-- shadow mark the editions that cannot be chosen that month.
--
-- A book's `to` day is the last day it was sold to new apps; apps already on
-- it keep being billed by it.  M.closed tells the choice of a new app.
local dates = require "imbill.internal.dates"

local M = {}

local function last_day(month) return dates.month_first(month) + dates.month_length(month) - 1 end

--- nil when `book` is in force in `month` (a month number), else the reason:
-- "price book 2022 starts 2022-12-26".
function M.before(book, month)
  if book.from_day and last_day(month) < book.from_day then
    return string.format("price book %s starts %s", book.name, book.from)
  end
  return nil
end

--- The invoice's note for a month before its book: nil when in force.
function M.note(book, month)
  if not M.before(book, month) then return nil end
  return string.format("price book %s was not yet in force in %s (it starts %s): a what-if price", book.name,
    dates.format_month(month), book.from)
end

--- nil when a new app could choose `book` in `month`, else the reason: "price
-- book 2020 was sold to new apps until 2021-08-05" (or M.before's reason).
function M.closed(book, month)
  local r = M.before(book, month)
  if r then return r end
  if book.to_day and dates.month_first(month) > book.to_day then
    return string.format("price book %s was sold to new apps until %s", book.name, book.to)
  end
  return nil
end

return M
