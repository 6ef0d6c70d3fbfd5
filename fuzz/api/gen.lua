--- Valid-looking arguments, and their mutation one field at a time.
--
-- An argument spec is a function(r) -> node.  A node is Lua source text (a
-- string) or a table node { fields = { { key, node }, ... } } rendered as a
-- table constructor, so a mutation can reach one field deep inside.
local junk = require "junk"

local M = {}

local function is_ident(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") and not ({
    ["and"] = 1, ["break"] = 1, ["do"] = 1, ["else"] = 1, ["elseif"] = 1, ["end"] = 1, ["false"] = 1,
    ["for"] = 1, ["function"] = 1, ["goto"] = 1, ["if"] = 1, ["in"] = 1, ["local"] = 1, ["nil"] = 1,
    ["not"] = 1, ["or"] = 1, ["repeat"] = 1, ["return"] = 1, ["then"] = 1, ["true"] = 1, ["until"] = 1,
    ["while"] = 1 })[k]
end

--- One of the given expressions.
function M.V(...)
  local list = { ... }
  return function(r) return r:pick(list) end
end

--- A field that is present half of the time.
function M.O(spec, p)
  return { optional = p or 0.5, spec = spec }
end

local function build(r, spec)
  if type(spec) == "string" then return spec end
  return spec(r)
end
M.build = build

--- A table of named fields; fields is { { "name", spec }, ... } (an ordered
-- list, so that the same seed renders the same text).  Array items are
-- { nil, spec }.
function M.T(fields)
  return function(r)
    local node = { fields = {} }
    for _, f in ipairs(fields) do
      local key, spec = f[1], f[2]
      if type(spec) == "table" and spec.optional then
        if r:chance(spec.optional) then node.fields[#node.fields + 1] = { key, build(r, spec.spec) } end
      else
        node.fields[#node.fields + 1] = { key, build(r, spec) }
      end
    end
    return node
  end
end

--- An array of lo..hi items.
function M.L(spec, lo, hi)
  return function(r)
    local node = { fields = {} }
    for _ = 1, r:int(lo, hi) do node.fields[#node.fields + 1] = { nil, build(r, spec) } end
    return node
  end
end

-- Metatables for valid contents: an iteration or a length that lies, an
-- index that answers everything or raises, finalizers.
M.WRAPS = {
  '{ __pairs = function() return 5 end }', '{ __pairs = function() error("FUZZ-HOSTILE __pairs") end }',
  '{ __pairs = function(t) return next, {} end }', '{ __len = function() return 2^40 end }',
  '{ __len = function() return "x" end }', '{ __len = function() return -1 end }',
  '{ __index = function() return "pro" end }', '{ __index = function() return 1 end }',
  '{ __index = function() error("FUZZ-HOSTILE __index") end }', '{ __newindex = function() error("FUZZ-HOSTILE new") end }',
  '{ __metatable = false }', '{ __index = function() collectgarbage() end }', '{ __gc = function() collectgarbage() end }',
}

function M.render(node)
  if type(node) == "string" then return node end
  if node.wrap then return "setmetatable(" .. M.render(node.inner) .. ", " .. node.wrap .. ")" end
  local parts = {}
  for _, f in ipairs(node.fields) do
    local k, v = f[1], M.render(f[2])
    if k == nil then parts[#parts + 1] = v
    elseif is_ident(k) then parts[#parts + 1] = k .. " = " .. v
    elseif type(k) == "string" and k:sub(1, 1) == "[" then parts[#parts + 1] = k .. " = " .. v
    else parts[#parts + 1] = "[" .. junk.q(k) .. "] = " .. v end
  end
  return "{ " .. table.concat(parts, ", ") .. " }"
end

--- The node with one thing changed: a value replaced by junk, a field
-- removed, an unknown field added, or the change made one level down.
function M.mutate(r, node, depth)
  depth = depth or 0
  if node.wrap then return M.mutate(r, node.inner, depth) end
  if type(node) == "string" or #node.fields == 0 or r:chance(0.12) then
    if type(node) == "table" and #node.fields == 0 and r:chance(0.5) then
      return { fields = { { "[" .. junk.any(r, 1) .. "]", junk.any(r) } } }
    end
    return junk.any(r)
  end
  if r:chance(0.1) then
    -- the same valid contents behind a hostile metatable
    return { wrap = r:pick(M.WRAPS), inner = node }
  end
  local copy = { fields = {} }
  for i, f in ipairs(node.fields) do copy.fields[i] = { f[1], f[2] } end
  local what = r:weighted { { 60, "mutate" }, { 15, "remove" }, { 15, "add" }, { 10, "dup" } }
  local i = r:int(1, #copy.fields)
  if what == "mutate" then
    copy.fields[i][2] = M.mutate(r, copy.fields[i][2], depth + 1)
  elseif what == "remove" then
    table.remove(copy.fields, i)
  elseif what == "add" then
    local key = r:chance(0.6) and r:pick { "peek_dau", "x", "", "book ", "Book", "__index", "1", "n" }
      or ("[" .. junk.any(r, 1) .. "]")
    if key == "[nil]" then key = "[false]" end
    table.insert(copy.fields, r:int(1, #copy.fields + 1), { key, junk.any(r) })
  else
    -- the same value as an array item too (a field given twice, by name and position)
    table.insert(copy.fields, { nil, copy.fields[i][2] })
  end
  return copy
end

return M
