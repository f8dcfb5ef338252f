/**
 * `npm run gateway`: the cluster's public address, run from environment variables
 * (`loadGatewayConfig`) until SIGTERM or SIGINT. With GATEWAY_RELAY=haproxy (the default) it
 * starts HAProxy on the public port as its data plane and serves it from the loopback interface:
 * routes for the upgrades, and every plain HTTP request.
 */
import { ConfigError, type GatewayConfig, loadGatewayConfig } from "../config.ts";
import { connectRedis } from "../cluster/redis-connection.ts";
import { Edge } from "../edge/edge.ts";
import { RefusalLog } from "../edge/refusal-log.ts";
import { createOperatorApp, listenOperator } from "../http/operator-server.ts";
import { createLogger } from "../log.ts";
import { RepeatLog } from "../repeat-log.ts";
import { AddressList } from "../edge/client-address.ts";
import { DEFAULT_TRUSTED_PROXIES, type EdgeSettings } from "../edge/edge-settings.ts";
import { Gateway } from "./gateway.ts";
import { createGatewayMetrics } from "./gateway-metrics.ts";
import { Haproxy, haproxyFiles, haproxyMissing, HaproxyRuntime } from "./haproxy.ts";
import { HaproxySessions } from "./haproxy-sessions.ts";
import { RouteService } from "./route-service.ts";

let config: GatewayConfig;
try {
  config = loadGatewayConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`locus gateway: ${err.message}\n`);
  process.exit(2);
}
const missing = config.relay === "haproxy" ? haproxyMissing() : undefined;
if (missing) {
  process.stderr.write(`locus gateway: ${missing}\n`);
  process.exit(2);
}

const log = createLogger(config.logLevel, "gateway");
process.on("unhandledRejection", (err) => log.warn({ event: "unhandled_rejection", err }, "unhandled rejection (ignored)"));
const files = config.relay === "haproxy" ? haproxyFiles() : undefined;
const runtime = files ? new HaproxyRuntime(files.adminSocket) : undefined;
const sessions = runtime ? new HaproxySessions(runtime) : undefined;
const metrics = createGatewayMetrics(runtime && (() => runtime.ownersCarried().catch(() => 0)));
const abuse = new RepeatLog({ log });
const gateway = new Gateway({
  redis: connectRedis(config.redis, log, "locus-gateway"),
  subscriber: connectRedis(config.redis, log, "locus-gateway-sub", "subscriber"),
  log,
  holdMs: config.holdMs,
  maxHeld: config.maxHeld,
  // Behind HAProxy every request comes from the loopback interface, and says who sent it.
  edge: new Edge(files ? trustingLoopback(config.edge) : config.edge, new RefusalLog(abuse, metrics.edgeRefusals)),
  metrics,
  sessions,
});
const operator = await listenOperator(createOperatorApp({ probes: gateway.probes(), registry: metrics.registry }), config.adminPort, config.adminHost).catch((err: unknown) => {
  log.fatal({ event: "gateway_failed", err }, `could not open the operator listener on ${config.adminHost}:${config.adminPort}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
let stopDataPlane = () => Promise.resolve();
let bound: number;
if (files) {
  const routes = new RouteService(config.edge.trustedProxies, (q) => gateway.route(q));
  await routes.listen(files.routeSocket);
  const controlPort = await gateway.listen(0, "127.0.0.1");
  // HAProxy waits for an answer past the longest hold, and a connection's retries after it.
  const routeWaitSeconds = Math.ceil(config.holdMs / 1000) + 5;
  // HAProxy prints only warnings and alerts (a Lua error among them): each is worth an operator's look.
  const onOutput = (text: string) => log.warn({ event: "haproxy_output", text: text.trim() }, "HAProxy said something");
  const haproxy = await Haproxy.start(files, { host: config.host, port: config.port, controlPort, routeWaitSeconds, edge: config.edge }, onOutput).catch((err: unknown) => {
    log.fatal({ event: "gateway_failed", err }, `could not start HAProxy on ${config.host}:${config.port}: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
  void haproxy.exited.then((output) => {
    if (stopping) return;
    log.fatal({ event: "gateway_failed", output }, "HAProxy, which carries the players' sockets, exited: the gateway stops with it");
    process.exit(1);
  });
  stopDataPlane = async () => {
    sessions?.stop();
    haproxy.stop();
    await routes.close();
  };
  bound = config.port;
} else {
  bound = await gateway.listen(config.port, config.host);
}
log.info({ event: "gateway_started", port: bound, admin: operator.url, relay: config.relay }, `Locus gateway listening on http://localhost:${bound} (relay: ${config.relay}); metrics on ${operator.url}`);

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    stopping = true;
    abuse.stop();
    void Promise.all([stopDataPlane(), gateway.close(), operator.close()]).finally(() => process.exit(0));
  });
}

/** The edge settings with the loopback addresses trusted to forward: HAProxy's, in front of this listener. */
function trustingLoopback(edge: EdgeSettings): EdgeSettings {
  const own = edge.trustedProxies.text.trim();
  const parsed = AddressList.parse(own === "" || own === "none" ? DEFAULT_TRUSTED_PROXIES : `${own}, ${DEFAULT_TRUSTED_PROXIES}`);
  if (!parsed.ok) throw new Error(parsed.error);
  return { ...edge, trustedProxies: parsed.value };
}
