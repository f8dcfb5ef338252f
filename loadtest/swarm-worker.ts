/**
 * One process of the bot swarm: joins its share of lean bots (and of full bots, which decode
 * state and so can tell how much a moved room lost), steers them at random, and answers the
 * parent's call for a sample (once a second) over IPC. Started by loadtest/main.ts, never by hand.
 */
import { FullBot } from "./full-bot.ts";
import { encode, latencyHistogram, recordMs } from "./latency-histogram.ts";
import { LeanBot } from "./lean-bot.ts";
import { LoopDelay } from "./loop-delay.ts";
import type { SwarmSample, WorkerOrders } from "./swarm-protocol.ts";

const orders = JSON.parse(process.env.LOCUS_SWARM_ORDERS ?? "null") as WorkerOrders | null;
if (!orders || typeof process.send !== "function") {
  process.stderr.write("swarm-worker: started without orders; run `npm run loadtest` instead\n");
  process.exit(2);
}

// The SDK announces every drop and reconnect on the console; with many bots that would bury the
// progress, and the report counts them anyway.
console.info = () => undefined;
console.warn = () => undefined;

const bots: LeanBot[] = [];
const fullBots: FullBot[] = [];
let failed = 0;
let lastError = "";
const startedAt = Date.now();
/** Each lean bot's longest gap over the whole run, kept across the one-second windows. */
const runGaps: number[] = [];
const acks = latencyHistogram();
const loop = new LoopDelay(10);
let cpuMark = process.cpuUsage();
let wallMark = performance.now();

async function joinAll(o: WorkerOrders): Promise<void> {
  const total = o.bots + o.fullBots;
  for (let i = 0; i < total; i++) {
    // Spread the joins over the ramp, this worker's share of them.
    const due = startedAt + (o.rampMs * i) / total;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    try {
      if (i < o.bots) {
        const bot = await LeanBot.join({ url: o.url, name: `bot${o.worker}-${i}`, tickHz: o.tickHz });
        bot.wander();
        bots.push(bot);
      } else {
        fullBots.push(await FullBot.join(o.url, `full${o.worker}-${i - o.bots}`));
      }
    } catch (err) {
      failed++;
      lastError = (err as Error).message;
    }
  }
}

function sample(last = false): SwarmSample {
  const now = performance.now();
  const cpu = process.cpuUsage(cpuMark);
  cpuMark = process.cpuUsage();
  const cpuPercent = ((cpu.user + cpu.system) / 1000 / Math.max(1, now - wallMark)) * 100;
  wallMark = now;
  const loopDelayP99Ms = loop.p99Ms();
  loop.reset();
  const s: SwarmSample = {
    connected: 0,
    leanConnected: 0,
    failed,
    dropped: 0,
    reconnected: 0,
    stateFrames: 0,
    bytes: 0,
    ackHistogram: "",
    longestGapMs: 0,
    lastError,
    cpuPercent,
    loopDelayP99Ms,
  };
  acks.reset();
  bots.forEach((b, i) => {
    runGaps[i] = Math.max(runGaps[i] ?? 0, b.longestGap());
    if (b.leftWith === undefined) s.leanConnected++;
    else s.dropped++;
    s.reconnected += b.reconnects;
    s.stateFrames += b.stateFrames;
    s.bytes += b.bytesReceived;
    for (const l of b.ackLatencies) recordMs(acks, l);
    s.longestGapMs = Math.max(s.longestGapMs, b.longestGap());
    b.bytesReceived = 0;
    b.clearWindow();
  });
  s.connected = s.leanConnected;
  for (const f of fullBots) {
    if (f.leftWith === undefined) s.connected++;
    else s.dropped++;
    s.reconnected += f.reconnects;
  }
  if (acks.totalCount > 0) s.ackHistogram = encode(acks);
  if (last) {
    s.reconnectedBotGaps = [
      ...bots.flatMap((b, i) => (b.reconnects > 0 ? [runGaps[i]!] : [])),
      ...fullBots.flatMap((f) => (f.reconnects > 0 ? [f.longestGap()] : [])),
    ];
    s.lostTicks = fullBots.flatMap((f) => f.lostTicks);
  }
  return s;
}

void joinAll(orders);
process.on("message", (message: unknown) => {
  if (message === "sample") {
    process.send!(sample());
  } else if (message === "stop") {
    process.send!(sample(true), () => {
      for (const b of bots) b.close();
      for (const f of fullBots) f.close();
      process.exit(0);
    });
  }
});
// The swarm stops by itself even if its parent is gone: every load loop is bounded in time.
setTimeout(() => process.exit(0), orders.durationMs + orders.rampMs + 30_000).unref();
process.on("disconnect", () => process.exit(0));
