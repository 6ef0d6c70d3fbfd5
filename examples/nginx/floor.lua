-- luacheck: std ngx_lua
--- For bench/gateway.sh only, not part of the gateway: the least any exact
-- check of create_group does in nginx's Lua, the yardstick that tells how
-- much of the plain proxy's throughput a check written in Lua can keep on
-- this machine at all.  It reads and decodes the body, counts the group in
-- the shared dict with one atomic increment under a cap, records its id,
-- asks for an answer it can read, and decodes that answer to take the count
-- back when Tencent did not create the group.  It knows no edition, no
-- member, no owner, no day and no reservation, and keeps no metrics: each of
-- those is work imbill's check does on top.
local cjson = require "cjson.safe"

local ngx = ngx
local M = {}

local CAP = 1e12 -- a cap no run reaches: the test is made, nothing is refused

function M.access()
  ngx.req.read_body()
  local b = cjson.decode(ngx.req.get_body_data() or "")
  if type(b) ~= "table" or type(b.GroupId) ~= "string" then return ngx.exit(400) end
  local d = ngx.shared.bench_floor
  local n = d:incr("groups", 1, 0)
  if not n then return ngx.exit(500) end
  if n > CAP then
    d:incr("groups", -1)
    return ngx.exit(403)
  end
  -- set, not add: a full dict evicts old ids instead of failing the run
  d:set("g:" .. b.GroupId, 1)
  ngx.ctx.floor = { group = b.GroupId }
  if ngx.var.http_accept_encoding then ngx.req.clear_header("Accept-Encoding") end
end

function M.body_filter()
  local c = ngx.ctx.floor
  if not c then return end
  local chunk, eof = ngx.arg[1], ngx.arg[2]
  if chunk and chunk ~= "" then c[#c + 1] = chunk end
  if not eof then return end
  local r = cjson.decode(table.concat(c))
  if type(r) ~= "table" or r.ActionStatus ~= "OK" then
    local d = ngx.shared.bench_floor
    d:incr("groups", -1)
    d:delete("g:" .. c.group)
  end
end

return M
