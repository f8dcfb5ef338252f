-- Loaded by the HAProxy that a Locus gateway runs as its data plane (server/gateway/haproxy.ts).
-- Every websocket upgrade asks the gateway where its room lives now, over the unix socket the
-- gateway names in the `locus.route_socket` variable, and is either sent straight to that node
-- (HAProxy then relays the socket's bytes itself, never the gateway) or answered with the
-- gateway's refusal. The gateway holds the question while the room has no live owner, so a
-- reconnecting player waits here exactly as it would inside a Node relay.
-- Two actions ask it: `locus_route` for an upgrade on a new connection, which HAProxy still holds
-- as raw bytes (its request head is read, and X-Forwarded-For added to it, as text), and
-- `locus_route_http` for one on a connection that carried a plain request first, which HAProxy's
-- HTTP layer has parsed.
-- Their two arguments, from the configuration: the socket's path and how long to wait for an answer.
-- One line out: "<src> <src port> <request target> <X-Forwarded-For or nothing>".
-- One line back: "route <ip> <port>" or "refuse <status> <json body>".

local UNROUTED = '{"code":503,"error":"the gateway could not route this socket; try again"}'

-- The gateway's answer: the owner's address, or the refusal's status and body.
local function ask(txn, socket_path, seconds, target, xff)
  local s = core.tcp()
  s:settimeout(tonumber(seconds))
  local line = nil
  if s:connect("unix@" .. socket_path) then
    s:send(txn.f:src() .. " " .. txn.f:src_port() .. " " .. target .. " " .. xff .. "\n")
    line = s:receive("*l")
  end
  s:close()
  local ip, port = string.match(line or "", "^route (%S+) (%d+)$")
  if ip then
    txn:set_var("txn.locus_ip", ip)
    txn:set_var("txn.locus_port", tonumber(port))
    return true
  end
  local status, body = string.match(line or "", "^refuse (%d+) (.*)$")
  if status then return false, tonumber(status), body end
  return false, 503, UNROUTED
end

-- The request target and every X-Forwarded-For line of a raw request head, in order, as one list.
local function parse_head(head)
  local target = string.match(head, "^%u+ (%S+) HTTP/1%.%d\r\n")
  local list = {}
  for name, value in string.gmatch(head, "\r\n([^:\r\n]+):[ \t]*([^\r\n]*)") do
    if string.lower(name) == "x-forwarded-for" then list[#list + 1] = (string.gsub(value, "[ \t]+$", "")) end
  end
  return target, table.concat(list, ", ")
end

core.register_action("locus_route", { "tcp-req" }, function(txn, socket_path, seconds)
  local data = txn.req:data()
  local head_end = string.find(data, "\r\n\r\n", 1, true)
  local target, xff = nil, ""
  if head_end then target, xff = parse_head(string.sub(data, 1, head_end + 1)) end
  local routed, status, body = false, 400, '{"code":400,"error":"bad request"}'
  if target then routed, status, body = ask(txn, socket_path, seconds, target, xff) end
  if routed then
    -- As `option forwardfor` does on the HTTP layer: the peer, after any the client sent.
    txn.req:insert("X-Forwarded-For: " .. txn.f:src() .. "\r\n", head_end + 1)
    return
  end
  txn.res:send("HTTP/1.1 " .. status .. " Refused\r\ncontent-type: application/json\r\ncontent-length: " .. #body .. "\r\nconnection: close\r\n\r\n" .. body)
  txn:done()
end, 2)

-- Every X-Forwarded-For line the client sent, in order, as one list.
local function forwarded_for(txn)
  local values = txn.http:req_get_headers()["x-forwarded-for"]
  if values == nil then return "" end
  local list = {}
  for i = 0, #values do
    if values[i] ~= nil then list[#list + 1] = values[i] end
  end
  return table.concat(list, ", ")
end

core.register_action("locus_route_http", { "http-req" }, function(txn, socket_path, seconds)
  local routed, status, body = ask(txn, socket_path, seconds, txn.f:url(), forwarded_for(txn))
  if routed then return end
  txn:done(txn:reply({ status = status, headers = { ["content-type"] = { "application/json" } }, body = body }))
end, 2)
