--- Room on a chart: how much space a text takes, whether two things overlap,
-- and a placer that puts each label at the first of its candidate positions
-- where it overprints nothing (no other label, marker or line) and stays on
-- the canvas; a label with no such position is left out and counted.
--
-- Widths are estimates (no font metrics in a pure-Lua writer): a character is
-- taken as 0.62 of the font size (0.68 in bold), a little wider than DejaVu
-- Sans' average, and a text's box runs from 0.9 of the font size above its
-- baseline to 0.25 below; so a label judged clear on this estimate is clear
-- on the page.
local M = {}

M.CHAR, M.CHAR_BOLD = 0.62, 0.68
M.ASCENT, M.DESCENT = 0.9, 0.25

--- The number of characters of a UTF-8 string (bytes that do not continue a
-- sequence), on either runtime.
function M.chars(s)
  local n = 0
  for i = 1, #s do
    local b = s:byte(i)
    if b < 0x80 or b >= 0xC0 then n = n + 1 end
  end
  return n
end

function M.width(s, fs, bold)
  return M.chars(s) * fs * (bold and M.CHAR_BOLD or M.CHAR)
end

--- The box { x0, y0, x1, y1 } of a text at (x, y) (its baseline) with the
-- anchor "start", "middle" or "end".
function M.text_box(x, y, s, fs, anchor, bold)
  local w = M.width(s, fs, bold)
  local x0 = x
  if anchor == "middle" then x0 = x - w / 2 elseif anchor == "end" then x0 = x - w end
  return { x0, y - M.ASCENT * fs, x0 + w, y + M.DESCENT * fs }
end

function M.union(a, b)
  if not a then return b end
  return { math.min(a[1], b[1]), math.min(a[2], b[2]), math.max(a[3], b[3]), math.max(a[4], b[4]) }
end

function M.grow(b, d) return { b[1] - d, b[2] - d, b[3] + d, b[4] + d } end

function M.overlap(a, b)
  return a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]
end

function M.inside(b, bounds)
  return b[1] >= bounds[1] and b[2] >= bounds[2] and b[3] <= bounds[3] and b[4] <= bounds[4]
end

--- Whether the segment (x1, y1)-(x2, y2) passes through the box (Liang-Barsky).
function M.segment_hits(b, x1, y1, x2, y2)
  local dx, dy = x2 - x1, y2 - y1
  local t0, t1 = 0, 1
  local function clip(p, q)
    if p == 0 then return q >= 0 end
    local r = q / p
    if p < 0 then
      if r > t1 then return false end
      if r > t0 then t0 = r end
    else
      if r < t0 then return false end
      if r < t1 then t1 = r end
    end
    return true
  end
  return clip(-dx, x1 - b[1]) and clip(dx, b[3] - x1) and clip(-dy, y1 - b[2]) and clip(dy, b[4] - y1) and t0 <= t1
end

--- s cut to at most `w` pixels at font size fs, ending in an ellipsis when cut.
function M.fit(s, fs, w, bold)
  if M.width(s, fs, bold) <= w then return s, false end
  local per = fs * (bold and M.CHAR_BOLD or M.CHAR)
  local keep = math.floor(w / per) - 1
  if keep < 1 then return "", true end
  local out, n, i = {}, 0, 1
  while i <= #s and n < keep do
    local b = s:byte(i)
    local len = b < 0x80 and 1 or (b >= 0xF0 and 4 or (b >= 0xE0 and 3 or (b >= 0xC0 and 2 or 1)))
    out[#out + 1] = s:sub(i, i + len - 1)
    i = i + len
    n = n + 1
  end
  return table.concat(out) .. "\226\128\166", true
end

-- The characters of s as a list (UTF-8 sequences kept whole).
local function split(s)
  local out, i = {}, 1
  while i <= #s do
    local b = s:byte(i)
    local len = b < 0x80 and 1 or (b >= 0xF0 and 4 or (b >= 0xE0 and 3 or (b >= 0xC0 and 2 or 1)))
    out[#out + 1] = s:sub(i, i + len - 1)
    i = i + len
  end
  return out
end

--- s cut to at most `w` pixels by an ellipsis in the middle, so both ends stay
-- readable: two long book names that share a start still differ in their
-- edition and amount ("A what-if b...k/pro  (5,399.88)").
function M.fit_middle(s, fs, w, bold)
  if M.width(s, fs, bold) <= w then return s, false end
  local per = fs * (bold and M.CHAR_BOLD or M.CHAR)
  local keep = math.floor(w / per) - 1
  local cs = split(s)
  if keep < 2 then return M.fit(s, fs, w, bold) end
  local tail = math.floor(keep * 0.6)
  local head = keep - tail
  return table.concat(cs, "", 1, head) .. "\226\128\166" .. table.concat(cs, "", #cs - tail + 1, #cs), true
end

--- s broken at spaces into at most `lines` lines of at most w pixels; the
-- last line is cut with an ellipsis when the text does not fit.
function M.wrap(s, fs, w, lines, bold)
  local out, cur = {}, nil
  local words = {}
  for word in s:gmatch("%S+") do words[#words + 1] = word end
  local i = 1
  while i <= #words do
    local word = words[i]
    local try = cur and (cur .. " " .. word) or word
    if M.width(try, fs, bold) <= w then
      cur, i = try, i + 1
    elseif cur == nil then
      -- one word wider than the line: cut it
      cur, i = M.fit(word, fs, w, bold), i + 1
    else
      if #out + 1 == lines then break end
      out[#out + 1] = cur
      cur = nil
    end
  end
  if cur then
    if i <= #words then
      local rest = cur .. " " .. table.concat(words, " ", i)
      cur = M.fit(rest, fs, w, bold)
    end
    out[#out + 1] = cur
  end
  return out
end

--- A placer over `bounds` { x0, y0, x1, y1 }: boxes and segments taken, and
-- candidate labels tried in order.
--
-- What is taken is filed by the squares of a grid it touches, so a test
-- reads only what lies near the box tested.  Every box and segment was
-- tested against every label candidate: a break-even table of 2,221
-- crossings (DAU to 10 million) took 9 s to chart, and one to 100 million
-- did not finish; the answers are the same, found among fewer.
local Placer = {}
Placer.__index = Placer

local GRID = 32
local floor, min, max = math.floor, math.min, math.max

function M.placer(bounds)
  local p = setmetatable({ bounds = bounds, boxes = {}, segs = {}, grid = {}, seen = {}, stamp = 0, left_out = 0 },
    Placer)
  -- squares beyond the bounds (and a square of margin) are one square:
  -- nothing out there is ever tested apart from what is near the edge
  p.c0x, p.c1x = floor(bounds[1] / GRID) - 1, floor(bounds[3] / GRID) + 1
  p.c0y, p.c1y = floor(bounds[2] / GRID) - 1, floor(bounds[4] / GRID) + 1
  return p
end

-- The squares from (x0, y0) to (x1, y1), clamped to the placer's.
function Placer:squares(x0, y0, x1, y1)
  local a0 = min(max(floor(min(x0, x1) / GRID), self.c0x), self.c1x)
  local a1 = min(max(floor(max(x0, x1) / GRID), self.c0x), self.c1x)
  local b0 = min(max(floor(min(y0, y1) / GRID), self.c0y), self.c1y)
  local b1 = min(max(floor(max(y0, y1) / GRID), self.c0y), self.c1y)
  return a0, a1, b0, b1
end

function Placer:file(item, x0, y0, x1, y1)
  local a0, a1, b0, b1 = self:squares(x0, y0, x1, y1)
  local width = self.c1x - self.c0x + 1
  for cy = b0, b1 do
    for cx = a0, a1 do
      local k = (cy - self.c0y) * width + (cx - self.c0x)
      local list = self.grid[k]
      if not list then list = {} self.grid[k] = list end
      list[#list + 1] = item
    end
  end
end

-- Calls test(item) for each item filed near the box, each once; true as
-- soon as one test is.
function Placer:near(x0, y0, x1, y1, test)
  self.stamp = self.stamp + 1
  local stamp, seen = self.stamp, self.seen
  local a0, a1, b0, b1 = self:squares(x0, y0, x1, y1)
  local width = self.c1x - self.c0x + 1
  for cy = b0, b1 do
    for cx = a0, a1 do
      local list = self.grid[(cy - self.c0y) * width + (cx - self.c0x)]
      if list then
        for i = 1, #list do
          local it = list[i]
          if seen[it] ~= stamp then
            seen[it] = stamp
            if test(it) then return true end
          end
        end
      end
    end
  end
  return false
end

function Placer:take(box)
  self.boxes[#self.boxes + 1] = box
  self:file(box, box[1], box[2], box[3], box[4])
end

function Placer:segment(x1, y1, x2, y2)
  local s = { x1, y1, x2, y2, segment = true }
  self.segs[#self.segs + 1] = s
  self:file(s, x1, y1, x2, y2)
end

function Placer:polyline(pts)
  for i = 2, #pts do self:segment(pts[i - 1][1], pts[i - 1][2], pts[i][1], pts[i][2]) end
end

local function hits(box, it)
  if it.segment then return M.segment_hits(box, it[1], it[2], it[3], it[4]) end
  return M.overlap(box, it)
end

function Placer:free(box)
  if not M.inside(box, self.bounds) then return false end
  -- the candidates of one label mostly run into the same thing: it first
  local last = self.last_hit
  if last and hits(box, last) then return false end
  return not self:near(box[1], box[2], box[3], box[4], function(it)
    if hits(box, it) then
      self.last_hit = it
      return true
    end
    return false
  end)
end

--- Tries each candidate (a list of boxes, the parts of one label, with an
-- optional leader = { x1, y1, x2, y2 } joining it to its point) in turn;
-- the first whose every part is free is taken and returned with its index.
-- With none free the label is counted as left out and nil returned.
function Placer:place(candidates)
  for i, parts in ipairs(candidates) do
    local ok = true
    for _, b in ipairs(parts) do
      if not self:free(M.grow(b, 1)) then ok = false break end
    end
    local l = parts.leader
    if ok and l then
      -- a leader line crosses no label or marker, and no part of its own label
      if self:near(l[1], l[2], l[3], l[4], function(it)
        return not it.segment and M.segment_hits(it, l[1], l[2], l[3], l[4])
      end) then ok = false end
      for _, b in ipairs(parts) do
        if ok and M.segment_hits(b, l[1], l[2], l[3], l[4]) then ok = false end
      end
    end
    if ok then
      for _, b in ipairs(parts) do self:take(M.grow(b, 1)) end
      if l then self:segment(l[1], l[2], l[3], l[4]) end
      return parts, i
    end
  end
  self.left_out = self.left_out + 1
  return nil
end

return M
