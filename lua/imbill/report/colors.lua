--- One colour per edition, wherever the edition is drawn.
--
-- The colours are the Okabe-Ito palette (Okabe and Ito, "Color Universal
-- Design"), chosen to stay distinct under the common forms of colour
-- blindness; its nine entries cover the nine built-in editions, so no two
-- built-in editions share a colour.  The six paid editions get the six strong
-- hues; the three free editions, whose lines lie at zero, get black, grey and
-- yellow.  A colour follows the edition's name ("2021/pro"), never its place in
-- a list, so the same edition has the same colour in every chart of a report.
--
-- An edition of a user book gets a colour from the same palette by a fixed
-- hash of its name (the same name, the same colour, on every run and runtime)
-- and a dashed line, so it stays apart from a built-in edition of that colour.
local M = {}

M.PALETTE = {
  black = "#000000", orange = "#E69F00", sky_blue = "#56B4E9", bluish_green = "#009E73", yellow = "#F0E442",
  blue = "#0072B2", vermillion = "#D55E00", reddish_purple = "#CC79A7", grey = "#999999",
}

-- The order a user edition's hash picks from.
M.ORDER = { "blue", "vermillion", "bluish_green", "orange", "reddish_purple", "sky_blue", "grey", "black", "yellow" }

M.BUILTIN = {
  ["2020/trial"] = "yellow",
  ["2020/pro"] = "orange",
  ["2020/flagship"] = "sky_blue",
  ["2021/free"] = "grey",
  ["2021/pro"] = "blue",
  ["2021/ultimate"] = "vermillion",
  ["2022/developer"] = "black",
  ["2022/standard"] = "bluish_green",
  ["2022/premium"] = "reddish_purple",
}

-- A polynomial hash of the name's bytes, kept below 2^31 at every step, so
-- Lua 5.4 integers and LuaJIT doubles give the same value.
local function hash(s)
  local h = 7
  for i = 1, #s do h = (h * 31 + s:byte(i)) % 2147483647 end
  return h
end

--- The colour of an edition by its name: { color = "#RRGGBB", dash = nil or
-- "6 3", name = the palette entry }.
function M.edition(name)
  name = tostring(name)
  local key = M.BUILTIN[name]
  if key then return { color = M.PALETTE[key], name = key } end
  key = M.ORDER[hash(name) % #M.ORDER + 1]
  return { color = M.PALETTE[key], name = key, dash = "6 3" }
end

--- Text colours and the neutral greys of the frame.
M.INK, M.INK2, M.GRID, M.AXIS, M.NONE = "#222222", "#555555", "#e6e6e6", "#444444", "#dddddd"

return M
