-- A busted output handler that writes only what scripts/tally.lua reads (name,
-- message, file and line of each result).  busted's own json handler encodes
-- its whole internal state and fails silently on large runs under LuaJIT.
local json = require "dkjson"

return function()
  local busted = require "busted"
  local handler = require("busted.outputHandlers.base")()

  local function slim(list)
    local out = {}
    for i, t in ipairs(list) do
      local trace = t.trace or (t.element and t.element.trace) or {}
      out[i] = { name = tostring(t.name), message = t.message ~= nil and tostring(t.message) or nil,
                 trace = { short_src = trace.short_src, currentline = trace.currentline } }
    end
    return out
  end

  handler.suiteEnd = function()
    local doc = { successes = slim(handler.successes), failures = slim(handler.failures),
                  errors = slim(handler.errors), pending = slim(handler.pendings),
                  duration = handler.getDuration() }
    local ok, text = pcall(json.encode, doc)
    if not ok then
      text = json.encode { successes = {}, errors = { { name = "busted_json", message = tostring(text) } } }
    end
    io.write(text, "\n")
    io.flush()
    return nil, true
  end

  busted.subscribe({ "suite", "end" }, handler.suiteEnd)
  return handler
end
