/**
 * `npm run gateway`: the cluster's public address, run from environment variables
 * (`loadGatewayConfig`) until SIGTERM or SIGINT.
 */
import { ConfigError, type GatewayConfig, loadGatewayConfig } from "../config.ts";
import { connectRedis } from "../cluster/redis-connection.ts";
import { Edge } from "../edge/edge.ts";
import { RefusalLog } from "../edge/refusal-log.ts";
import { createOperatorApp, listenOperator } from "../http/operator-server.ts";
import { createLogger } from "../log.ts";
import { RepeatLog } from "../repeat-log.ts";
import { Gateway } from "./gateway.ts";
import { createGatewayMetrics } from "./gateway-metrics.ts";

let config: GatewayConfig;
try {
  config = loadGatewayConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`locus gateway: ${err.message}\n`);
  process.exit(2);
}

const log = createLogger(config.logLevel, "gateway");
process.on("unhandledRejection", (err) => log.warn({ event: "unhandled_rejection", err }, "unhandled rejection (ignored)"));
const metrics = createGatewayMetrics();
const abuse = new RepeatLog({ log });
const gateway = new Gateway({
  redis: connectRedis(config.redis, log, "locus-gateway"),
  subscriber: connectRedis(config.redis, log, "locus-gateway-sub", "subscriber"),
  log,
  holdMs: config.holdMs,
  maxHeld: config.maxHeld,
  edge: new Edge(config.edge, new RefusalLog(abuse, metrics.edgeRefusals)),
  metrics,
});
const operator = await listenOperator(createOperatorApp({ probes: gateway.probes(), registry: metrics.registry }), config.adminPort, config.adminHost).catch((err: unknown) => {
  log.fatal({ event: "gateway_failed", err }, `could not open the operator listener on ${config.adminHost}:${config.adminPort}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
const bound = await gateway.listen(config.port, config.host);
log.info({ event: "gateway_started", port: bound, admin: operator.url }, `Locus gateway listening on http://localhost:${bound}; metrics on ${operator.url}`);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    abuse.stop();
    void Promise.all([gateway.close(), operator.close()]).finally(() => process.exit(0));
  });
}
