/**
 * What every attack test checks: the honest players in the attacked room keep receiving state at
 * the tick rate and nobody honest is kicked, the node answers a health check promptly, and its
 * memory stays bounded. Honest players are lean bots from 127.0.0.1; attackers use other loopback
 * addresses (127.0.0.2 and up), so per-address limits can tell them apart.
 */
import { readFileSync } from "node:fs";
import { LeanBot } from "../../loadtest/lean-bot.ts";

export interface HonestPlayers {
  readonly bots: LeanBot[];
  readonly roomId: string;
  /** Leaves the room for good. */
  close(): void;
}

/** `count` lean bots in one room (a new one, or `roomId`), walking at random, one input per tick. */
export async function joinHonestPlayers(url: string, count: number, options: { roomId?: string; tickHz?: number } = {}): Promise<HonestPlayers> {
  const tickHz = options.tickHz ?? 30;
  const first = await LeanBot.join({ url, name: "honest0", tickHz, ...(options.roomId === undefined ? {} : { roomId: options.roomId }) });
  const bots = [first];
  try {
    for (let i = 1; i < count; i++) bots.push(await LeanBot.join({ url, name: `honest${i}`, tickHz, roomId: first.roomId }));
  } catch (err) {
    for (const b of bots) b.close();
    throw err;
  }
  for (const b of bots) b.wander();
  return { bots, roomId: first.roomId, close: () => bots.forEach((b) => b.close()) };
}

export interface Window {
  /** State frames per second of the honest player that received the fewest. */
  readonly slowestUpdatesPerSecond: number;
  /** Close codes of honest players that were disconnected for good during the window. */
  readonly kicked: number[];
  /** Codes of the warnings (`room.onError`) honest players received during the window. */
  readonly warnings: number[];
  /** The slowest `/healthz` answer seen while the window ran, polled every 200 ms (a timed-out poll counts as its timeout). */
  readonly slowestHealthMs: number;
}

/**
 * Watches the honest players for `ms` while `during` runs (an attack, or nothing for a baseline):
 * their state update rate, who was kicked, and how promptly `healthUrl` answered.
 */
export async function watch(players: HonestPlayers, healthUrl: string, ms: number, during: () => Promise<unknown> = async () => undefined): Promise<Window> {
  const leftBefore = new Set(players.bots.filter((b) => b.leftWith !== undefined));
  const warnedBefore = players.bots.map((b) => b.warnings.length);
  for (const b of players.bots) b.clearWindow();
  let slowestHealthMs = 0;
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const started = performance.now();
      await fetch(healthUrl, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
      slowestHealthMs = Math.max(slowestHealthMs, performance.now() - started);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const started = performance.now();
  const attack = during();
  await new Promise((r) => setTimeout(r, ms));
  const seconds = (performance.now() - started) / 1000;
  const frames = players.bots.map((b) => b.stateFrames);
  polling = false;
  await Promise.all([poll, attack.catch(() => undefined)]);
  return {
    slowestUpdatesPerSecond: Math.min(...frames) / seconds,
    kicked: players.bots.filter((b) => b.leftWith !== undefined && !leftBefore.has(b)).map((b) => b.leftWith!),
    warnings: players.bots.flatMap((b, i) => b.warnings.slice(warnedBefore[i])),
    slowestHealthMs,
  };
}

/** A process's resident memory in megabytes, from /proc. */
export function residentMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  if (!line) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(line.replace(/\D+/g, "")) / 1024;
}
