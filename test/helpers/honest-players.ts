/**
 * What every attack test checks: the honest players in the attacked room keep receiving state at
 * the tick rate and nobody honest is warned or kicked, the node answers a health check promptly,
 * and its memory stays bounded.
 *
 * The honest players are lean bots from 127.0.0.1 in a process of their own, which also polls the
 * health check: whatever the test process does meanwhile (an attacker's requests and sockets, a
 * 20 MB write to Redis), it never delays their reading of the state they get nor the health
 * check's answer, so what they measure is the server. Attackers use other loopback addresses
 * (127.0.0.2 and up), so per-address limits can tell them apart.
 */
import { type ChildProcess, fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import type { RunningProcess } from "../../loadtest/processes.ts";
import type { BotStatus, Command, Reply, Started, Window } from "./honest-process.ts";

export type { BotStatus, Window };

export interface HonestPlayers {
  readonly roomId: string;
  /**
   * Watches the players for `ms` while `during` runs (an attack, or nothing for a baseline):
   * their state update rate, who was warned or kicked, and how promptly `healthUrl` answered.
   * An error `during` throws fails the watch.
   */
  watch(healthUrl: string, ms: number, during?: () => Promise<unknown>): Promise<Window>;
  bots(): Promise<BotStatus[]>;
  /** Leaves the room for good and ends the players' process. */
  close(): Promise<void>;
}

const PROCESS = fileURLToPath(new URL("./honest-process.ts", import.meta.url));

/**
 * `count` lean bots in one room (a new one, or `options.roomId`), walking at random, one input
 * per tick, in a process of their own; resolves once they have played for a second.
 */
export async function joinHonestPlayers(url: string, count: number, options: { roomId?: string; tickHz?: number } = {}): Promise<HonestPlayers> {
  const child = fork(PROCESS, [JSON.stringify({ url, count, ...options })], { execArgv: [], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const started = await new Promise<Started>((resolve) => {
    child.once("message", (m) => resolve(m as Started));
    child.once("exit", (code) => resolve({ error: `the honest players' process exited with ${code} before joining` }));
  });
  if ("error" in started) {
    child.kill();
    throw new Error(started.error);
  }
  let next = 0;
  const ask = (command: Command): Promise<unknown> => {
    const id = ++next;
    return new Promise((resolve, reject) => {
      const onReply = (m: unknown) => {
        const reply = m as Reply;
        if (reply.id !== id) return;
        child.off("message", onReply);
        child.off("exit", onExit);
        if (reply.error === undefined) resolve(reply.result);
        else reject(new Error(reply.error));
      };
      const onExit = (code: number | null) => reject(new Error(`the honest players' process exited with ${code}`));
      child.on("message", onReply);
      child.once("exit", onExit);
      child.send({ id, ...command });
    });
  };
  return {
    roomId: started.roomId,
    async watch(healthUrl, ms, during = async () => undefined) {
      const [watched] = await Promise.all([ask({ op: "watch", healthUrl, ms }) as Promise<Window>, during()]);
      return watched;
    },
    bots: () => ask({ op: "bots" }) as Promise<BotStatus[]>,
    close: () => closeChild(child, () => ask({ op: "close" })),
  };
}

async function closeChild(child: ChildProcess, ask: () => Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  await ask().catch(() => child.kill());
  await exited;
}

/** A process's resident memory in megabytes, from /proc. */
export function residentMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  if (!line) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(line.replace(/\D+/g, "")) / 1024;
}

/**
 * A node's resident memory less its young generation. Nodes run with 64 MB semi-spaces, which V8
 * grows only as allocation quickens: an attack that makes a node allocate faster grows them by up to
 * 128 MB (both semi-spaces), bounded by design and given back as it calms. What would show a leak or
 * unbounded buffering is the rest.
 */
async function retainedMb(p: RunningProcess): Promise<number> {
  const rss = residentMb(p.child.pid!);
  if (!("adminUrl" in p) || typeof p.adminUrl !== "string") return rss;
  const text = await (await fetch(`${p.adminUrl}/metrics`)).text();
  const young = /^locus_nodejs_heap_space_size_total_bytes\{space="new"[^}]*\} (\S+)$/m.exec(text);
  return young ? rss - Number(young[1]) / 2 ** 20 : rss;
}

export interface Measured {
  readonly baseline: Window;
  readonly during: Window;
  /** The largest growth of the nodes' resident memory over the attack, in MB. */
  readonly rssGrowthMb: number;
}

export interface AttackWindow {
  /** Whose health check is polled: the attacked node, or the gateway the players come through. */
  readonly healthUrl: string;
  /** Whose memory is watched: the attacked node, or every node the attack may reach. */
  readonly nodes: readonly RunningProcess[];
  /** How long the attack window lasts (the baseline as long); 3 s by default. */
  readonly ms?: number;
}

const WINDOW_MS = 3000;

/**
 * A baseline window of the honest players, then one while `attack` runs; prints one line of the
 * figures docs/security.md quotes, and checks the targets: at least 90 % of the baseline's
 * state updates for the slowest honest player, nobody honest warned or kicked, every health
 * check answered within a second, and under 100 MB of memory growth (young generation aside) on every node watched.
 */
export async function underAttack(name: string, players: HonestPlayers, where: AttackWindow, attack: () => Promise<unknown>): Promise<Measured> {
  const ms = where.ms ?? WINDOW_MS;
  const baseline = await players.watch(where.healthUrl, Math.min(ms, WINDOW_MS));
  const rssBefore = await Promise.all(where.nodes.map(retainedMb));
  const during = await players.watch(where.healthUrl, ms, attack);
  const rssAfter = await Promise.all(where.nodes.map(retainedMb));
  const rssGrowthMb = Math.max(...rssAfter.map((after, i) => after - rssBefore[i]!));
  console.log(
    `measured: ${name}: honest updates/s ${baseline.slowestUpdatesPerSecond.toFixed(1)} before, ${during.slowestUpdatesPerSecond.toFixed(1)} during; ` +
      `slowest /healthz ${during.slowestHealthMs.toFixed(0)} ms; node RSS less its young generation ${rssBefore.map((mb) => mb.toFixed(0)).join("/")} → ${rssAfter.map((mb) => mb.toFixed(0)).join("/")} MB`,
  );
  const measured = { baseline, during, rssGrowthMb };
  expectUnharmed(measured);
  return measured;
}

/** The targets for the honest side of every attack. */
export function expectUnharmed(m: Measured): void {
  expect(m.during.kicked, "honest players kicked").toEqual([]);
  expect(m.during.warnings, "honest players warned").toEqual([]);
  expect(m.during.slowestUpdatesPerSecond, "the slowest honest player's state updates per second").toBeGreaterThanOrEqual(0.9 * m.baseline.slowestUpdatesPerSecond);
  expect(m.during.slowestHealthMs, "the slowest health check, in ms").toBeLessThan(1000);
  expect(m.rssGrowthMb, "node memory growth beside its young generation, in MB").toBeLessThan(100);
}
