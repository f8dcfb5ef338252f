/**
 * One process of the bot swarm: joins its share of lean bots, steers them at random, and sends the
 * parent one sample a second over IPC. Started by loadtest/main.ts, never by hand.
 */
import { LeanBot } from "./lean-bot.ts";
import type { SwarmSample, WorkerOrders } from "./swarm-protocol.ts";

const orders = JSON.parse(process.env.LOCUS_SWARM_ORDERS ?? "null") as WorkerOrders | null;
if (!orders || typeof process.send !== "function") {
  process.stderr.write("swarm-worker: started without orders; run `npm run loadtest` instead\n");
  process.exit(2);
}

const bots: LeanBot[] = [];
let failed = 0;
let lastError = "";
const startedAt = Date.now();
/** Each bot's longest gap over the whole run, kept across the one-second windows. */
const runGaps: number[] = [];

async function joinAll(o: WorkerOrders): Promise<void> {
  for (let i = 0; i < o.bots; i++) {
    // Spread the joins over the ramp, this worker's share of them.
    const due = startedAt + (o.rampMs * i) / o.bots;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    try {
      const bot = await LeanBot.join({ url: o.url, name: `bot${o.worker}-${i}`, tickHz: o.tickHz });
      setInterval(() => bot.steer(Math.random() * 2 - 1, Math.random() * 2 - 1), 500 + Math.random() * 1500).unref();
      bots.push(bot);
    } catch (err) {
      failed++;
      lastError = (err as Error).message;
    }
  }
}

function sample(last = false): SwarmSample {
  const s: SwarmSample = { connected: 0, failed, dropped: 0, reconnected: 0, stateFrames: 0, bytes: 0, ackLatencies: [], longestGapMs: 0, lastError };
  bots.forEach((b, i) => {
    runGaps[i] = Math.max(runGaps[i] ?? 0, b.longestGap());
    if (b.leftWith === undefined) s.connected++;
    else s.dropped++;
    s.reconnected += b.reconnects;
    s.stateFrames += b.stateFrames;
    s.bytes += b.bytesReceived;
    for (const l of b.ackLatencies) s.ackLatencies.push(l);
    s.longestGapMs = Math.max(s.longestGapMs, b.longestGap());
    b.bytesReceived = 0;
    b.clearWindow();
  });
  if (last) s.reconnectedBotGaps = bots.flatMap((b, i) => (b.reconnects > 0 ? [runGaps[i]!] : []));
  return s;
}

const timer = setInterval(() => process.send!(sample()), 1000);
void joinAll(orders);
process.on("message", (message: unknown) => {
  if (message !== "stop") return;
  clearInterval(timer);
  process.send!(sample(true), () => {
    for (const b of bots) b.close();
    process.exit(0);
  });
});
// The swarm stops by itself even if its parent is gone: every load loop is bounded in time.
setTimeout(() => process.exit(0), orders.durationMs + orders.rampMs + 30_000).unref();
process.on("disconnect", () => process.exit(0));
