--- CSV lines (RFC 4180 quoting, no newline inside a field), shared by the
-- readers of usage histories and event logs and by the command's --csv output.
local M = {}

--- Splits one line into its fields.  On broken quoting returns nil, the 1-based
-- column of the quoted field at fault, and what is wrong with it.
function M.split(line)
  local fields, i, n = {}, 1, #line
  while true do
    if line:sub(i, i) == '"' then
      local buf, j = {}, i + 1
      while true do
        local q = line:find('"', j, true)
        if not q then return nil, #fields + 1, "unterminated quoted field" end
        buf[#buf + 1] = line:sub(j, q - 1)
        if line:sub(q + 1, q + 1) ~= '"' then
          i = q + 1
          break
        end
        buf[#buf + 1] = '"' -- "" inside quotes is one quote
        j = q + 2
      end
      fields[#fields + 1] = table.concat(buf)
      local after = line:sub(i, i)
      if after == "" then return fields end
      if after ~= "," then return nil, #fields, "text after a quoted field" end
      i = i + 1
    else
      local comma = line:find(",", i, true)
      if not comma then
        fields[#fields + 1] = line:sub(i, n)
        return fields
      end
      fields[#fields + 1] = line:sub(i, comma - 1)
      i = comma + 1
    end
  end
end

--- One field, quoted only when it holds a comma, a quote or a line break.
function M.field(v)
  v = tostring(v == nil and "" or v)
  if v:find('[,"\r\n]') then v = '"' .. v:gsub('"', '""') .. '"' end
  return v
end

--- A header and rows (arrays of values) as CSV text, a line each.
function M.rows(header, rows)
  local out, line = {}, {}
  for i, h in ipairs(header) do line[i] = M.field(h) end
  out[1] = table.concat(line, ",")
  for _, r in ipairs(rows) do
    line = {}
    for i = 1, #header do line[i] = M.field(r[i]) end
    out[#out + 1] = table.concat(line, ",")
  end
  return table.concat(out, "\n") .. "\n"
end

return M
