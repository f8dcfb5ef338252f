/**
 * One process of the bot swarm: keeps its share of the run's target connected (joining and
 * leaving as the stages ramp, replacing bots that leave by churn or give up), steers them, and
 * answers each of the parent's requests with a sample over IPC. Most bots are load bots; a few,
 * in proportion, are observers that decode state. Started by the swarm, never by hand; it may be
 * started ahead of its orders, which are the first message it receives.
 */
import { appendFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { BOT_KINDS, type LoadBot, type ObserverBot } from "./bot-kinds.ts";
import { encode, latencyHistogram, toMicros } from "./latency-histogram.ts";
import { LoopDelay } from "./loop-delay.ts";
import { NetemProxy } from "./netem/proxy.ts";
import { holdingAt, peak, targetAt, totalMs } from "./schedule.ts";
import { STORM_SETTLE_MS, type SwarmRequest, type SwarmSample, type WorkerOrders } from "./swarm-protocol.ts";

if (typeof process.send !== "function") {
  process.stderr.write("swarm-worker: started without a parent; run `npm run loadtest` instead\n");
  process.exit(2);
}
process.on("disconnect", () => process.exit(0));
const orders = await new Promise<WorkerOrders>((resolve) => process.once("message", (m: { orders: WorkerOrders }) => resolve(m.orders)));

// The SDK announces every drop and reconnect on the console; with many bots that would bury the
// progress, and the report counts them anyway.
console.info = () => undefined;
console.warn = () => undefined;

const CONTROL_MS = 100;
/** Joins one process keeps in flight at once: a spike ramps fast without a burst of hundreds. */
const MAX_JOINING = 16;
/** After a refused join, this process waits before the next, rather than hammer a server that is saying no. */
const JOIN_RETRY_PAUSE_MS = 2000;

const kinds = BOT_KINDS[orders.game];
// Each bot process plays through its own proxy, so a distant network costs the swarm, not one process.
const target = orders.net === undefined ? undefined : new URL(orders.url);
const proxy = target === undefined ? undefined : await NetemProxy.start({ target: { host: target.hostname, port: Number(target.port || 80) }, conditions: orders.net!, seed: orders.worker + 1 });
const joinUrl = proxy?.url ?? orders.url;
const rawAcksFile = orders.rawAcksDir === undefined ? undefined : join(orders.rawAcksDir, `acks-${hostname()}-${process.pid}.txt`);
const startedAt = performance.now() - Math.max(0, Date.now() - orders.startedAt);
const peakTarget = peak(orders.stages);
const loads = new Set<LoadBot>();
const observers = new Set<ObserverBot>();
let joiningLoads = 0;
let joiningObservers = 0;
let named = 0;
let joinsPausedUntil = 0;
let churnDue = 0;
let lastControlAt = startedAt;
let stopping = false;
const counts = { joined: 0, failed: 0, dropped: 0, churned: 0, reconnectsOfGone: 0 };
const droppedCodes: Record<string, number> = {};
let lastError = "";
/** Each load bot's longest gap over its life, kept across the one-second windows. */
const lifeGaps = new Map<LoadBot, number>();
/** Of bots gone before the end: the life gaps of those that reconnected, and the ticks observers lost. */
const goneGaps: number[] = [];
const goneLostTicks: number[] = [];
/** The window being measured: what the load bots received and acknowledged since the last sample. */
const acks = latencyHistogram();
let frames = 0;
let bytes = 0;
let windowGap = 0;
const raw: number[] = [];
/** A reconnect storm's cohort: each bot, with how many recoveries it had before the storm. */
let cohort: Map<LoadBot, number> | undefined;
const storm = { backMs: [] as number[], lost: 0 };
const loop = new LoopDelay(10);
let cpuMark = process.cpuUsage();
let wallMark = performance.now();

function harvest(bot: LoadBot): void {
  frames += bot.stateFrames;
  bytes += bot.bytesReceived;
  bot.bytesReceived = 0;
  for (const l of bot.ackLatencies) {
    const micros = toMicros(l);
    acks.recordValue(micros);
    if (rawAcksFile) raw.push(micros);
  }
  const gap = bot.longestGap();
  windowGap = Math.max(windowGap, gap);
  lifeGaps.set(bot, Math.max(lifeGaps.get(bot) ?? 0, gap));
  bot.clearWindow();
}

/** A cohort bot leaves the storm's count: back (with its time), lost, or, when the swarm itself closed it unrecovered, not counted. */
function settleStorm(bot: LoadBot, closedBySwarm: boolean): void {
  const before = cohort?.get(bot);
  if (before === undefined) return;
  cohort!.delete(bot);
  const back = bot.recoveries[before];
  if (back !== undefined) storm.backMs.push(back);
  else if (!closedBySwarm) storm.lost++;
}

function removeLoad(bot: LoadBot, closedBySwarm: boolean): void {
  harvest(bot);
  loads.delete(bot);
  if (bot.reconnects > 0) goneGaps.push(lifeGaps.get(bot) ?? 0);
  lifeGaps.delete(bot);
  counts.reconnectsOfGone += bot.reconnects;
  settleStorm(bot, closedBySwarm);
  if (closedBySwarm) bot.close();
}

function removeObserver(bot: ObserverBot, closedBySwarm: boolean): void {
  observers.delete(bot);
  if (bot.reconnects > 0) goneGaps.push(bot.longestGap());
  goneLostTicks.push(...bot.lostTicks);
  counts.reconnectsOfGone += bot.reconnects;
  if (closedBySwarm) bot.close();
}

/** Bots that gave up reconnecting are dropped; the target then wants new ones in their place. */
function reapDropped(): void {
  for (const bot of loads) {
    if (bot.leftWith === undefined) continue;
    countDrop(bot.leftWith);
    removeLoad(bot, false);
  }
  for (const bot of observers) {
    if (bot.leftWith === undefined) continue;
    countDrop(bot.leftWith);
    removeObserver(bot, false);
  }
}

function countDrop(code: number): void {
  counts.dropped++;
  droppedCodes[code] = (droppedCodes[code] ?? 0) + 1;
}

/** Observers the target wants now: the run's proportion of them at its peak. */
function observersWanted(target: number): number {
  return peakTarget === 0 ? 0 : Math.round((target * orders!.fullBots) / peakTarget);
}

async function joinBot(observer: boolean): Promise<void> {
  const n = named++;
  if (observer) joiningObservers++;
  else joiningLoads++;
  try {
    const bot = observer ? await kinds.joinObserver(joinUrl, `full${orders!.worker}-${n}`, orders!.followRoom) : await kinds.joinLoadBot(joinUrl, `bot${orders!.worker}-${n}`, orders!.tickHz, orders!.followRoom);
    counts.joined++;
    if (stopping) bot.close();
    else if (observer) observers.add(bot as ObserverBot);
    else loads.add(bot as LoadBot);
  } catch (err) {
    counts.failed++;
    lastError = (err as Error).message;
    joinsPausedUntil = performance.now() + JOIN_RETRY_PAUSE_MS;
  } finally {
    if (observer) joiningObservers--;
    else joiningLoads--;
  }
}

/** Leaves one bot of the kind the target has too many of: the newest load bot, or an observer. */
function leaveOne(target: number): void {
  if (observers.size > observersWanted(target) || loads.size === 0) {
    const newest = [...observers].at(-1);
    if (newest) removeObserver(newest, true);
  } else {
    removeLoad([...loads].at(-1)!, true);
  }
}

function churnOne(): void {
  const live = loads.size + observers.size;
  if (live === 0) return;
  const pick = Math.floor(Math.random() * live);
  if (pick < loads.size) removeLoad([...loads][pick]!, true);
  else removeObserver([...observers][pick - loads.size]!, true);
  counts.churned++;
}

function control(): void {
  if (stopping) return;
  const now = performance.now();
  const at = now - startedAt;
  reapDropped();
  const target = Math.round(targetAt(orders!.stages, at));
  if (holdingAt(orders!.stages, at)) {
    churnDue += (orders!.churnPerSecond * (now - lastControlAt)) / 1000;
    for (; churnDue >= 1; churnDue--) churnOne();
  } else {
    churnDue = 0;
  }
  lastControlAt = now;
  // Joins in flight are not closed for: they may fail, and one that lands over the target leaves next time round.
  for (let over = loads.size + observers.size - target; over > 0; over--) leaveOne(target);
  if (now < joinsPausedUntil) return;
  const missing = Math.min(target - (loads.size + observers.size + joiningLoads + joiningObservers), MAX_JOINING - joiningLoads - joiningObservers);
  for (let i = 0; i < missing; i++) {
    void joinBot(observers.size + joiningObservers < observersWanted(target));
  }
}

/** Cohort bots still on their way back: no state since the cut, and not given up. */
function stormPending(): number {
  let pending = 0;
  for (const [bot, before] of cohort ?? []) if (bot.recoveries.length <= before && bot.leftWith === undefined) pending++;
  return pending;
}

function startStorm(cut: boolean): void {
  cohort = new Map();
  for (const bot of loads) {
    if (bot.leftWith !== undefined) continue;
    cohort.set(bot, bot.recoveries.length);
    if (cut) bot.cut();
  }
}

function sample(last: boolean): SwarmSample {
  const now = performance.now();
  const cpu = process.cpuUsage(cpuMark);
  cpuMark = process.cpuUsage();
  const cpuPercent = ((cpu.user + cpu.system) / 1000 / Math.max(1, now - wallMark)) * 100;
  wallMark = now;
  const loopDelayP99Ms = loop.p99Ms();
  loop.reset();
  reapDropped();
  let reconnected = counts.reconnectsOfGone;
  for (const bot of loads) {
    harvest(bot);
    reconnected += bot.reconnects;
  }
  for (const bot of observers) reconnected += bot.reconnects;
  const s: SwarmSample = {
    connected: loads.size + observers.size,
    leanConnected: loads.size,
    joined: counts.joined,
    failed: counts.failed,
    dropped: counts.dropped,
    droppedCodes: { ...droppedCodes },
    reconnected,
    churned: counts.churned,
    stormPending: stormPending(),
    stateFrames: frames,
    bytes,
    ackHistogram: acks.totalCount > 0 ? encode(acks) : "",
    longestGapMs: windowGap,
    lastError,
    cpuPercent,
    loopDelayP99Ms,
  };
  if (raw.length > 0) appendFileSync(rawAcksFile!, `${raw.join("\n")}\n`);
  raw.length = 0;
  acks.reset();
  frames = 0;
  bytes = 0;
  windowGap = 0;
  if (last) {
    s.reconnectedBotGaps = [...goneGaps, ...[...loads].filter((b) => b.reconnects > 0).map((b) => lifeGaps.get(b) ?? 0), ...[...observers].filter((b) => b.reconnects > 0).map((b) => b.longestGap())];
    s.lostTicks = [...goneLostTicks, ...[...observers].flatMap((b) => b.lostTicks)];
    if (cohort) {
      for (const bot of [...cohort.keys()]) settleStorm(bot, false);
      s.storm = storm;
    }
  }
  return s;
}

const controller = setInterval(control, CONTROL_MS);
control();
process.on("message", (r: SwarmRequest) => {
  if (r.kind === "sample") {
    process.send!(sample(false));
  } else if (r.kind === "storm") {
    startStorm(r.cut);
    process.send!(sample(false));
  } else if (r.kind === "stop") {
    stopping = true;
    clearInterval(controller);
    process.send!(sample(true), () => {
      for (const b of loads) b.close();
      for (const b of observers) b.close();
      process.exit(0);
    });
  }
});
// The swarm stops by itself even if its parent is gone: every load loop is bounded in time, a storm's wait for its cohort included.
setTimeout(() => process.exit(0), totalMs(orders.stages) + STORM_SETTLE_MS + 60_000).unref();
