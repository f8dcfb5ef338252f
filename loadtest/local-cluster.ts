/**
 * `npm run cluster`: a whole Locus cluster on this machine for a person to try: Redis (started
 * when none answers on the chosen port), several nodes and a gateway, the game at one URL.
 * Kill a node with the command it prints and watch its players carry on on another node.
 */
import { randomBytes } from "node:crypto";
import { formatTable, parseFlags } from "../server/cli.ts";
import { answersPing, type RunningProcess, startGatewayProcess, startNodeProcess, startRedis } from "./processes.ts";

const spec = {
  nodes: { type: "string", help: "how many nodes (1 to 8, default 3)" },
  port: { type: "string", help: "the gateway's port, where the game is (default 2567)" },
  "redis-port": { type: "string", help: "Redis port; a Redis already answering there is used (default 6379)" },
} as const;
const program = "npm run cluster --";
const flags = parseFlags(program, spec);
const nodes = flags.int("nodes", 3, 1, 8);
const port = flags.int("port", 2567, 1, 65535);
const redisPort = flags.int("redis-port", 6379, 1, 65535);

const started: RunningProcess[] = [];
const stopAll = async () => {
  await Promise.all(started.map((p) => p.stop()));
};
process.once("SIGINT", () => void stopAll().then(() => process.exit(0)));
process.once("SIGTERM", () => void stopAll().then(() => process.exit(0)));

try {
  let redisUrl = `redis://127.0.0.1:${redisPort}`;
  if (await answersPing(redisPort)) {
    process.stdout.write(`using the Redis already running on port ${redisPort} (Colyseus keys there are shared with whatever else uses it)\n`);
  } else {
    const redis = await startRedis({ port: redisPort });
    started.push(redis);
    redisUrl = redis.redisUrl;
    process.stdout.write(`started redis-server on port ${redisPort} (pid ${redis.child.pid})\n`);
  }
  const adminToken = process.env.ADMIN_TOKEN ?? randomBytes(18).toString("base64url");
  const rows: string[][] = [];
  for (let i = 1; i <= nodes; i++) {
    const nodeId = `node-${i}`;
    const node = await startNodeProcess({ REDIS_URL: redisUrl, NODE_ID: nodeId, HOST: "127.0.0.1", ADMIN_TOKEN: adminToken });
    started.push(node);
    rows.push([nodeId, String(node.child.pid), node.url, node.adminUrl, `kill -9 ${node.child.pid}`]);
  }
  const gateway = await startGatewayProcess({ REDIS_URL: redisUrl, HOST: "0.0.0.0" }, { port });
  started.push(gateway);
  rows.push(["gateway", String(gateway.child.pid), `http://localhost:${port}`, gateway.adminUrl, ""]);
  process.stdout.write(`\n${formatTable(["process", "pid", "address", "admin and metrics", "to crash it"], rows)}`);
  process.stdout.write(
    `\nPlay at http://localhost:${port} (open it in two windows). The HUD shows the node that runs your room;\n` +
      `crash that node with its kill command above and your game carries on on another node within about a second.\n` +
      `Drain a node as an operator would, and put it back in service (the ops CLI finds each node's admin address in Redis):\n` +
      `  export REDIS_URL=${redisUrl} ADMIN_TOKEN=${adminToken}\n` +
      `  npm run ops -- nodes\n` +
      `  npm run ops -- drain node-1\n` +
      `  npm run ops -- undrain node-1\n` +
      `Ctrl-C stops everything.\n`,
  );
  for (const p of started) {
    void p.exited.then((code) => {
      const name = p === gateway ? "gateway" : rows.find((r) => r[1] === String(p.child.pid))?.[0] ?? "redis";
      process.stdout.write(`${name} (pid ${p.child.pid}) exited: ${code}\n`);
    });
  }
} catch (err) {
  process.stderr.write(`could not start the cluster: ${(err as Error).message}\n`);
  await stopAll();
  process.exit(1);
}

