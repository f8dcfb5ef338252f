/**
 * `npm start`: runs one Locus node from environment variables until SIGTERM or SIGINT.
 */
import { fileURLToPath } from "node:url";
import { ConfigError, loadNodeConfig } from "./config.ts";
import { createLogger } from "./log.ts";
import { stallOnSigusr2 } from "./loop-stall.ts";
import { startNode } from "./node.ts";

let config;
try {
  config = loadNodeConfig(process.env, { staticDir: fileURLToPath(new URL("../dist/client", import.meta.url)) });
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`locus: ${err.message}\n`);
  process.exit(2);
}

const log = createLogger(config.logLevel, config.nodeId);
// Colyseus's Redis presence can reject a promise nobody awaits while Redis is away; that must
// not take the node and its rooms down with it.
process.on("unhandledRejection", (err) => log.warn({ event: "unhandled_rejection", err }, "unhandled rejection (ignored)"));
if (config.stallOnSigusr2Ms > 0) stallOnSigusr2(config.stallOnSigusr2Ms, log);
const node = await startNode(config, log).catch((err: unknown) => {
  log.fatal({ event: "node_failed", err }, `could not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
log.info(
  { event: "node_started", port: node.port, admin: node.adminUrl, tickHz: config.tickHz, maxPlayers: config.maxPlayers },
  `Locus node listening on http://localhost:${node.port}; admin API and metrics on ${node.adminUrl}`,
);

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ event: "node_stopping", signal }, "stopping");
    node.stopForExit().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  });
}
