--- Result classes whose methods check their receiver and name themselves.
--
-- A method called with the wrong receiver (`p.table()`, `p.row(5)`, or on a
-- table dressed in the class's metatable) raises "projection:table: self:
-- expected a projection (imbill.project): call it as p:table(...)" instead of
-- failing deep inside with a Lua runtime error.  An error raised inside a
-- method by a helper that names no function, or by another method of the same
-- class, is raised again naming the method the user called, keeping its field
-- (docs/errors.md): the user sees "series:usage: month: ...".  An error that
-- names another public function stays as it is: a caller that passed its own
-- name down (s:with_mau_ratio(r, "imbill.project", "mau_per_dau")) keeps it.
--
--   local Projection = methods.class("projection", "a projection (imbill.project)", "p")
--   local p = methods.new(Projection, { ... })      -- in the constructor
--   function Projection:row(name) ... end
--   methods.seal(Projection)                       -- after the last method
local errors = require "imbill.internal.errors"

local M = {}

-- class -> { kind =, what =, var =, made = weak set of the objects it made }
local classes = setmetatable({}, { __mode = "k" })

--- A new class table (its own __index).  kind names it in messages
-- ("projection"), what says what a receiver must be, var is the variable the
-- hint uses ("p" in "call it as p:row(...)").
function M.class(kind, what, var)
  local class = {}
  class.__index = class
  classes[class] = { kind = kind, what = what, var = var or "x", made = setmetatable({}, { __mode = "k" }) }
  return class
end

--- t made an object of class (marked as made by imbill).
function M.new(class, t)
  classes[class].made[t] = true
  return setmetatable(t, class)
end

--- True when x was made as an object of class.
function M.is(class, x)
  local c = classes[class]
  return c ~= nil and c.made[x] == true
end

local function finish(fn, prefix, ok, ...)
  if ok then return ... end
  local e = ...
  local named = errors.is(e) and rawget(e, "fn") or nil
  if type(named) ~= "string" or named:sub(1, #prefix) == prefix then e = errors.rename(e, fn, nil) end
  error(e, 0)
end

--- Wraps every method of class (every function whose name does not start
-- with "_"), so that each checks its receiver and names itself in errors.
-- Metamethods are left as they are: Lua only calls them on real objects.
function M.seal(class)
  local c = assert(classes[class], "methods.seal: not a class made by methods.class")
  local names = {}
  for name, f in next, class do
    if type(name) == "string" and type(f) == "function" and name:sub(1, 1) ~= "_" then names[#names + 1] = name end
  end
  for _, name in ipairs(names) do
    local f, fn = class[name], c.kind .. ":" .. name
    local hint = "expected " .. c.what .. ": call it as " .. c.var .. ":" .. name .. "(...)"
    local made, prefix = c.made, c.kind .. ":"
    class[name] = function(self, ...)
      if not made[self] then errors.raise(fn, "self", hint, self) end
      return finish(fn, prefix, pcall(f, self, ...))
    end
  end
  return class
end

return M
