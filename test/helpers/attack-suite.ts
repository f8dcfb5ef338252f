/**
 * The frame the edge-attack test files share: cleanups that run after each test, and honest
 * players in a new room whose window under attack checks what every attack must leave intact.
 */
import { afterEach } from "vitest";
import type { RunningProcess } from "../../loadtest/processes.ts";
import { type HonestPlayers, joinHonestPlayers, type Measured, underAttack } from "./honest-players.ts";

export interface AttackSuite {
  /** Runs after the current test, the last one registered first. */
  defer(cleanup: () => unknown): void;
  /** Four honest players in a new room, past their first second of play. */
  honest(url: string): Promise<HonestPlayers>;
  /**
   * Watches the honest players quietly, then while `attack` runs (`ms`, 3 s by default), and
   * checks the targets (`underAttack`) with `node`'s health check and memory.
   */
  underAttack(name: string, node: RunningProcess, players: HonestPlayers, attack: () => Promise<unknown>, ms?: number): Promise<Measured>;
}

export function attackSuite(): AttackSuite {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return {
    defer: (cleanup) => void cleanups.push(cleanup),
    async honest(url) {
      const players = await joinHonestPlayers(url, 4);
      cleanups.push(() => players.close());
      return players;
    },
    underAttack: (name, node, players, attack, ms) => underAttack(name, players, { healthUrl: `${node.url}/healthz`, nodes: [node], ...(ms === undefined ? {} : { ms }) }, attack),
  };
}
