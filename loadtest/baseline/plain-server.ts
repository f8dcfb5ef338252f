/**
 * `node loadtest/baseline/plain-server.ts`: the benchmark baseline, a plain Colyseus 0.18 server
 * running the arena (plain-room.ts) with Colyseus's in-process presence and driver, so Locus's
 * overhead can be reported as a ratio against it. Lean bots and `npm run loadtest` play against it
 * unchanged.
 *
 * Environment: PORT (default 2570), HOST (127.0.0.1), TICK_HZ (30), MAX_PLAYERS (10).
 * `GET /healthz` answers `{ ok: true }`; `GET /stats` answers what was measured since the previous
 * /stats call and starts a new window (see `readStats`).
 */
import type { AddressInfo } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { matchMaker, Server } from "@colyseus/core";
import { WebSocketTransport } from "@colyseus/ws-transport";
import { EnvReader } from "../../server/config.ts";
import { ROOM_NAME } from "../../shared/constants.ts";
import { PlainArenaRoom, type RoomMeter } from "./plain-room.ts";

/** Smallest tick time told apart, in milliseconds; anything shorter lands in the first bucket. */
const HISTOGRAM_MIN_MS = 0.001;
/** Each bucket is this much wider than the one before, so a percentile is off by at most 1 %. */
const HISTOGRAM_GROWTH = 1.01;
/** Enough buckets to reach a minute; longer ticks land in the last one. */
const HISTOGRAM_BUCKETS = Math.ceil(Math.log(60_000 / HISTOGRAM_MIN_MS) / Math.log(HISTOGRAM_GROWTH)) + 1;

/**
 * Tick-work times in logarithmic buckets: fixed memory whatever the window's length, and no
 * allocation per tick.
 */
class TickHistogram {
  private readonly counts = new Float64Array(HISTOGRAM_BUCKETS);
  private readonly logGrowth = Math.log(HISTOGRAM_GROWTH);
  count = 0;

  record(ms: number): void {
    const i = ms <= HISTOGRAM_MIN_MS ? 0 : Math.min(HISTOGRAM_BUCKETS - 1, Math.ceil(Math.log(ms / HISTOGRAM_MIN_MS) / this.logGrowth));
    this.counts[i]!++;
    this.count++;
  }

  /** The q-quantile (0 to 1) by nearest rank, as its bucket's upper bound; null when empty. */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    let i = 0;
    for (; i < HISTOGRAM_BUCKETS - 1; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) break;
    }
    return HISTOGRAM_MIN_MS * HISTOGRAM_GROWTH ** i;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
  }
}

const problems: string[] = [];
const env = new EnvReader(process.env, problems);
const port = env.int("PORT", 2570, 0, 65535);
const host = env.string("HOST", "127.0.0.1", /^[\w.:-]+$/, "a host name or IP address");
const tickHz = env.int("TICK_HZ", 30, 1, 120);
const maxPlayers = env.int("MAX_PLAYERS", 10, 1, 64);
if (problems.length > 0) {
  process.stderr.write(`plain-server: invalid environment:\n  ${problems.join("\n  ")}\n`);
  process.exit(2);
}

const ticks = new TickHistogram();
let bytesSent = 0;
const meter: RoomMeter = {
  tickWork: (ms) => ticks.record(ms),
  bytesSent: (bytes) => {
    bytesSent += bytes;
  },
};
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
let windowStartedAt = performance.now();

/**
 * Everything windowed covers the time since the previous call, which this call ends: tick counts
 * and percentiles, loop delay and bytes. cpuSeconds is the process's total since it started, and
 * clients and rooms are counts at the moment of the call.
 */
function readStats() {
  const now = performance.now();
  const stats = {
    windowSeconds: (now - windowStartedAt) / 1000,
    ticks: ticks.count,
    tickP50Ms: ticks.quantile(0.5),
    tickP99Ms: ticks.quantile(0.99),
    // Like prom-client's event-loop lag, this includes the 10 ms sampling period: an idle loop reads about 10.
    loopDelayP99Ms: loopDelay.count > 0 ? loopDelay.percentile(99) / 1e6 : null,
    cpuSeconds: cpuSecondsSinceStart(),
    clients: matchMaker.stats.local.ccu,
    rooms: matchMaker.stats.local.roomCount,
    bytesSent,
  };
  windowStartedAt = now;
  ticks.reset();
  loopDelay.reset();
  bytesSent = 0;
  return stats;
}

function cpuSecondsSinceStart(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

const transport = new WebSocketTransport();
const server = new Server({
  transport,
  express: (app) => {
    app.get("/healthz", (_req, res) => {
      res.json({ ok: true });
    });
    app.get("/stats", (_req, res) => {
      res.json(readStats());
    });
  },
  // A baseline has nothing to save on the way out: the signal handlers below just exit.
  gracefullyShutdown: false,
  greet: false,
});
server.define(ROOM_NAME, PlainArenaRoom, { tickHz, maxPlayers, meter });
await server.listen(port, host);

for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => process.exit(0));
const bound = (transport.server!.address() as AddressInfo).port;
process.stdout.write(`plain colyseus baseline listening on http://${host}:${bound}\n`);
