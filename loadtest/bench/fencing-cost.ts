/**
 * What fencing across a failover costs: claims that wait for a replica (`WAIT 1`, Sentinel mode)
 * against claims that do not, and a checkpoint write beside each, on one Sentinel group (a
 * master, a replica, three sentinels) of this machine. Arms interleave A B B A over `--rounds`
 * rounds, so machine load falls on both alike; each operation is timed alone (one in flight), as
 * a claim on a recovery path is.
 *
 *   npx node loadtest/bench/fencing-cost.ts [--rounds 20] [--ops 50]
 */
import { loadavg } from "node:os";
import { parseFlags } from "../../server/cli.ts";
import { Ownership } from "../../server/cluster/ownership.ts";
import { newRedis } from "../../server/cluster/redis-endpoint.ts";
import { type ScriptedRedis, withScripts } from "../../server/cluster/redis-scripts.ts";
import { loadRedisEndpoint } from "../../server/config.ts";
import { percentile } from "../report.ts";
import { startSentinelGroup } from "../sentinel-group.ts";

const flags = parseFlags("npx node loadtest/bench/fencing-cost.ts", {
  rounds: { type: "string", help: "rounds of each arm, interleaved A B B A (default 20)" },
  ops: { type: "string", help: "claims and checkpoint writes per round (default 50)" },
});
const rounds = flags.int("rounds", 20, 2, 1000);
const ops = flags.int("ops", 50, 1, 10_000);

/** A checkpoint the size of an arena's with ten players (BENCHMARKS.md, "Checkpoint cost": about 3 KB). */
const CHECKPOINT = JSON.stringify({ format: 3, pad: "x".repeat(3000) });

const group = await startSentinelGroup();
const connections: ScriptedRedis[] = [];
const connect = () => {
  const redis = withScripts(newRedis(loadRedisEndpoint(group.env)!));
  connections.push(redis);
  return redis;
};
try {
  const arms = {
    replicated: new Ownership({ redis: connect(), bad: { report() {} }, nodeId: "bench-a", leaseMs: 5000, replicatedClaims: { redis: connect(), timeoutMs: 1000 } }),
    plain: new Ownership({ redis: connect(), bad: { report() {} }, nodeId: "bench-b", leaseMs: 5000 }),
  };
  const samples = { replicated: { claim: [] as number[], checkpoint: [] as number[] }, plain: { claim: [] as number[], checkpoint: [] as number[] } };
  const loadBefore = loadavg()[0]!;
  let room = 0;
  for (let r = 0; r < rounds; r++) {
    const order: (keyof typeof arms)[] = r % 2 === 0 ? ["replicated", "plain"] : ["plain", "replicated"];
    for (const arm of order) {
      for (let i = 0; i < ops; i++) {
        const roomId = `bench-${room++}`;
        let t = performance.now();
        const lease = await arms[arm].claim(roomId, "new");
        samples[arm].claim.push(performance.now() - t);
        t = performance.now();
        await arms[arm].writeCheckpoint(lease!, CHECKPOINT);
        samples[arm].checkpoint.push(performance.now() - t);
        await arms[arm].release(lease!);
      }
    }
  }
  const row = (arm: keyof typeof arms, op: "claim" | "checkpoint") => {
    const s = samples[arm][op];
    return `${arm.padEnd(10)} ${op.padEnd(10)} p50 ${percentile(s, 0.5).toFixed(3)} ms  p99 ${percentile(s, 0.99).toFixed(3)} ms  (${s.length})`;
  };
  const ratio = (op: "claim" | "checkpoint") => percentile(samples.replicated[op], 0.5) / percentile(samples.plain[op], 0.5);
  process.stdout.write(
    [
      row("replicated", "claim"),
      row("plain", "claim"),
      row("replicated", "checkpoint"),
      row("plain", "checkpoint"),
      `p50 ratio replicated/plain: claim ${ratio("claim").toFixed(2)}, checkpoint ${ratio("checkpoint").toFixed(2)}`,
      `load average (1 min) ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`,
      "",
    ].join("\n"),
  );
} finally {
  for (const c of connections) c.disconnect();
  await group.stop();
}
