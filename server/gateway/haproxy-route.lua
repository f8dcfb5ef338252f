-- Loaded by the HAProxy that a Locus gateway runs as its data plane (server/gateway/haproxy.ts).
-- Every websocket upgrade asks the gateway where its room lives now, over the unix socket the
-- gateway names in the `locus.route_socket` variable, and is either sent straight to that node
-- (HAProxy then relays the socket's bytes itself, never the gateway) or answered with the
-- gateway's refusal. The gateway holds the question while the room has no live owner, so a
-- reconnecting player waits here exactly as it would inside a Node relay.
-- Its two arguments, from the configuration: the socket's path and how long to wait for an answer.
-- One line out: "<src> <src port> <request target> <X-Forwarded-For or nothing>".
-- One line back: "route <ip> <port>" or "refuse <status> <json body>".

local function refuse(txn, status, body)
  txn:done(txn:reply({ status = status, headers = { ["content-type"] = { "application/json" } }, body = body }))
end

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

core.register_action("locus_route", { "http-req" }, function(txn, socket_path, seconds)
  local s = core.tcp()
  s:settimeout(tonumber(seconds))
  local line = nil
  if s:connect("unix@" .. socket_path) then
    local xff = forwarded_for(txn)
    s:send(txn.f:src() .. " " .. txn.f:src_port() .. " " .. txn.f:url() .. " " .. xff .. "\n")
    line = s:receive("*l")
  end
  s:close()
  local ip, port = string.match(line or "", "^route (%S+) (%d+)$")
  if ip then
    txn:set_var("txn.locus_ip", ip)
    txn:set_var("txn.locus_port", tonumber(port))
    return
  end
  local status, body = string.match(line or "", "^refuse (%d+) (.*)$")
  if status then return refuse(txn, tonumber(status), body) end
  refuse(txn, 503, '{"code":503,"error":"the gateway could not route this socket; try again"}')
end, 2)
