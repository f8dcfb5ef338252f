/**
 * The frame every edge-attack test file shares: cleanups run after each test, honest players who
 * have settled into steady play, the window that checks what every attack must leave intact, and
 * the measured lines printed at the end (the figures docs/security.md quotes).
 */
import { afterAll, afterEach, expect } from "vitest";
import type { RunningProcess } from "../../loadtest/processes.ts";
import { type HonestPlayers, joinHonestPlayers, residentMb, watch, type Window } from "./honest-players.ts";

const WINDOW_MS = 3000;

export interface AttackSuite {
  /** Runs after the current test, the last one registered first. */
  defer(cleanup: () => unknown): void;
  /** Four honest players in a new room, past their first second of full-state frames. */
  honest(url: string): Promise<HonestPlayers>;
  /**
   * Watches the honest players quietly, then while `attack` runs, and checks that they kept 90 %
   * of their updates and nobody was kicked, that `node` answered /healthz within a second and
   * grew its memory by less than 100 MB.
   */
  underAttack(name: string, node: RunningProcess, players: HonestPlayers, attack: () => Promise<unknown>, ms?: number): Promise<Window>;
  /** A line for the printed measurements. */
  note(line: string): void;
}

export function attackSuite(): AttackSuite {
  const cleanups: (() => unknown)[] = [];
  const measured: string[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  afterAll(() => {
    process.stdout.write(`\n${measured.join("\n")}\n`);
  });
  return {
    defer: (cleanup) => void cleanups.push(cleanup),
    async honest(url) {
      const players = await joinHonestPlayers(url, 4);
      cleanups.push(() => players.close());
      await new Promise((r) => setTimeout(r, 1000));
      return players;
    },
    async underAttack(name, node, players, attack, ms = WINDOW_MS) {
      const health = `${node.url}/healthz`;
      const baseline = await watch(players, health, ms);
      const rssBefore = residentMb(node.child.pid!);
      const during = await watch(players, health, ms, attack);
      const rssAfter = residentMb(node.child.pid!);
      measured.push(
        `${name}: honest updates/s ${baseline.slowestUpdatesPerSecond.toFixed(1)} before, ${during.slowestUpdatesPerSecond.toFixed(1)} during; ` +
          `node RSS ${rssBefore.toFixed(0)} MB before, ${rssAfter.toFixed(0)} MB after; slowest /healthz ${during.slowestHealthMs.toFixed(0)} ms`,
      );
      expect(during.kicked).toEqual([]);
      expect(during.slowestUpdatesPerSecond).toBeGreaterThanOrEqual(0.9 * baseline.slowestUpdatesPerSecond);
      expect(during.slowestHealthMs).toBeLessThan(1000);
      expect(rssAfter - rssBefore).toBeLessThan(100);
      return during;
    },
    note: (line) => void measured.push(line),
  };
}
