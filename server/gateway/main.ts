/**
 * `npm run gateway`: the cluster's public address. Reads PORT, HOST, REDIS_URL, GATEWAY_HOLD_MS,
 * ADMIN_PORT, ADMIN_HOST, ALLOWED_ORIGINS and LOG_LEVEL from the environment.
 */
import express from "express";
import { ConfigError, EnvReader, LOG_LEVELS, readAllowedOrigins, readOperatorListener } from "../config.ts";
import { connectRedis } from "../cluster/cluster-mode.ts";
import { CorsPolicy } from "../http/cors.ts";
import { createOperatorApp, listenOperator } from "../http/operator-server.ts";
import { createLogger } from "../log.ts";
import { Gateway } from "./gateway.ts";
import { createGatewayMetrics } from "./gateway-metrics.ts";

const problems: string[] = [];
const read = new EnvReader(process.env, problems);
const port = read.int("PORT", 2567, 0, 65535);
const host = read.string("HOST", "0.0.0.0", /^[\w.:-]+$/, "a host name or IP address");
const redisUrl = read.optional("REDIS_URL", /^rediss?:\/\/\S+$/, "a redis:// or rediss:// URL");
const holdMs = read.int("GATEWAY_HOLD_MS", 5000, 0, 60_000);
const { adminPort, adminHost } = readOperatorListener(read, port);
const allowedOrigins = readAllowedOrigins(read);
const logLevel = read.oneOf("LOG_LEVEL", "info", LOG_LEVELS);
if (!redisUrl) problems.push("REDIS_URL is required: the gateway finds rooms and nodes in Redis");
if (problems.length > 0) {
  process.stderr.write(`locus gateway: ${new ConfigError(`invalid environment:\n  ${problems.join("\n  ")}`).message}\n`);
  process.exit(2);
}

const log = createLogger(logLevel, "gateway");
process.on("unhandledRejection", (err) => log.warn({ event: "unhandled_rejection", err }, "unhandled rejection (ignored)"));
const metrics = createGatewayMetrics();
const gateway = new Gateway({
  redis: connectRedis(redisUrl!, log, "locus-gateway"),
  subscriber: connectRedis(redisUrl!, log, "locus-gateway-sub", "subscriber"),
  log,
  holdMs,
  metrics,
  cors: new CorsPolicy(allowedOrigins),
});
const probes = express.Router();
probes.get("/healthz", (_req, res) => {
  res.json({ status: "ok", role: "gateway" });
});
probes.get("/readyz", async (_req, res) => {
  const ready = await gateway.isReady();
  res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not ready", role: "gateway" });
});
const operator = await listenOperator(createOperatorApp({ probes, registry: metrics.registry }), adminPort, adminHost).catch((err: unknown) => {
  log.fatal({ event: "gateway_failed", err }, `could not open the operator listener on ${adminHost}:${adminPort}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
const bound = await gateway.listen(port, host);
log.info({ event: "gateway_started", port: bound, admin: operator.url }, `Locus gateway listening on http://localhost:${bound}; metrics on ${operator.url}`);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    void Promise.all([gateway.close(), operator.close()]).finally(() => process.exit(0));
  });
}
