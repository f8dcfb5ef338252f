/**
 * `npm run cluster`: a whole Locus cluster on this machine for a person to try: Redis (started
 * when none answers on the chosen port), several nodes and a gateway, the game at one URL.
 * Kill a node with the command it prints and watch its players carry on on another node.
 * With `--sentinel`, Redis is a master, a replica and three sentinels instead, and it prints the
 * command that kills the master: the rooms ride out the failover.
 */
import { randomBytes } from "node:crypto";
import { formatTable, parseFlags } from "../server/cli.ts";
import { freePort } from "./ports.ts";
import { answersPing, LOAD_GENERATOR_ADDRESSES, type RunningProcess, startGatewayProcess, startNodeProcess, startRedis } from "./processes.ts";
import { type SentinelGroup, startSentinelGroup } from "./sentinel-group.ts";

const spec = {
  nodes: { type: "string", help: "how many nodes (1 to 8, default 3)" },
  port: { type: "string", help: "the gateway's port, where the game is (default 2567)" },
  "redis-port": { type: "string", help: "Redis port; a Redis already answering there is used (default 6379). With --sentinel: the master's, the replica and the sentinels on the next four" },
  sentinel: { type: "boolean", help: "a master, a replica and three sentinels instead of one Redis, to try a failover" },
} as const;
const program = "npm run cluster --";
const flags = parseFlags(program, spec);
const nodes = flags.int("nodes", 3, 1, 8);
const port = flags.int("port", 2567, 1, 65535);
const redisPort = flags.int("redis-port", 6379, 1, 65531);
const sentinel = flags.values.sentinel === true;

const started: RunningProcess[] = [];
let group: SentinelGroup | undefined;
const stopAll = async () => {
  await Promise.all([...started.map((p) => p.stop()), group?.stop()]);
};
// The nodes and the gateway inherit it, so `npm run loadtest` from this machine can drive hundreds of bots.
process.env.LIMIT_EXEMPT_IPS ??= LOAD_GENERATOR_ADDRESSES;
process.once("SIGINT", () => void stopAll().then(() => process.exit(0)));
process.once("SIGTERM", () => void stopAll().then(() => process.exit(0)));

try {
  let redisUrl = `redis://127.0.0.1:${redisPort}`;
  let redisEnv: Record<string, string> = { REDIS_URL: redisUrl };
  if (sentinel) {
    for (let p = redisPort; p < redisPort + 5; p++) if (await answersPing(p)) throw new Error(`port ${p} is taken by a Redis already: choose others with --redis-port`);
    group = await startSentinelGroup({ basePort: redisPort });
    redisEnv = { ...group.env };
    const [master, replica] = group.servers;
    process.stdout.write(
      `started a Redis master on port ${master!.port} (pid ${master!.child.pid}), its replica on ${replica!.port} (pid ${replica!.child.pid}), ` +
        `and sentinels on ${group.sentinels.map((s) => s.port).join(", ")} (pids ${group.sentinels.map((s) => s.child.pid).join(", ")})\n`,
    );
  } else if (await answersPing(redisPort)) {
    process.stdout.write(`using the Redis already running on port ${redisPort} (Colyseus keys there are shared with whatever else uses it)\n`);
  } else {
    const redis = await startRedis({ port: redisPort });
    started.push(redis);
    redisUrl = redis.redisUrl;
    redisEnv = { REDIS_URL: redisUrl };
    process.stdout.write(`started redis-server on port ${redisPort} (pid ${redis.child.pid})\n`);
  }
  const adminToken = process.env.ADMIN_TOKEN ?? randomBytes(18).toString("base64url");
  const rows: string[][] = [];
  for (let i = 1; i <= nodes; i++) {
    const nodeId = `node-${i}`;
    // The game page follows its room: its socket goes straight to the node on this machine (a page
    // opened from another machine cannot reach 127.0.0.1 and falls back to the gateway).
    const nodePort = await freePort();
    const node = await startNodeProcess({ ...redisEnv, NODE_ID: nodeId, HOST: "127.0.0.1", ADMIN_TOKEN: adminToken, PUBLIC_URL: `ws://127.0.0.1:${nodePort}` }, { port: nodePort });
    started.push(node);
    rows.push([nodeId, String(node.child.pid), node.url, node.adminUrl, `kill -9 ${node.child.pid}`]);
  }
  const gateway = await startGatewayProcess({ ...redisEnv, HOST: "0.0.0.0" }, { port });
  started.push(gateway);
  rows.push(["gateway", String(gateway.child.pid), `http://localhost:${port}`, gateway.adminUrl, ""]);
  if (group) {
    const [master] = group.servers;
    rows.push(["redis master", String(master!.child.pid), master!.url, "", `kill -9 ${master!.child.pid}`]);
  }
  process.stdout.write(`\n${formatTable(["process", "pid", "address", "admin and metrics", "to crash it"], rows)}`);
  const exports = Object.entries({ ...redisEnv, ADMIN_TOKEN: adminToken })
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  process.stdout.write(
    `\nPlay at http://localhost:${port} (open it in two windows). The HUD shows the node that runs your room;\n` +
      `crash that node with its kill command above and your game carries on on another node within about a second.\n` +
      `The page's socket goes straight to its room's node (each node advertises PUBLIC_URL on 127.0.0.1, and the page asks\n` +
      `the gateway where its room is); a stock Colyseus SDK client's goes through the gateway's HAProxy.\n` +
      `Drain a node as an operator would, and put it back in service (the ops CLI finds each node's admin address in Redis):\n` +
      `  export ${exports}\n` +
      `  npm run ops -- nodes\n` +
      `  npm run ops -- drain node-1\n` +
      `  npm run ops -- undrain node-1\n` +
      (group
        ? `Kill the Redis master with its command above: the sentinels promote the replica in 2 to 4 s, every room pauses\n` +
          `at most that long and plays on, nobody is dropped. Ask them which server is master now:\n` +
          `  redis-cli -p ${group.sentinels[0]!.port} sentinel get-master-addr-by-name ${group.masterName}\n`
        : "") +
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

