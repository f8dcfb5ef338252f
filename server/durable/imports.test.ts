/**
 * The layer is game-agnostic: nothing it loads, directly or through another module of this
 * repository, is a game's (a room, its world, its schema or its protocol of moves).
 */
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const GAME_MODULES = [/^server\/games\//, /^server\/game\//, /^server\/rooms\/arena-room\.ts$/, /^shared\/schema\.ts$/, /^shared\/reversi\//];
const IMPORT = /^\s*(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/gm;

/** Every repository module `file` loads, itself included, as paths from the repository root. */
function loadedBy(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  for (const [, spec] of readFileSync(join(ROOT, file), "utf8").matchAll(IMPORT)) {
    loadedBy(relative(ROOT, resolve(ROOT, dirname(file), spec!)), seen);
  }
  return seen;
}

describe("server/durable", () => {
  const layer = readdirSync(join(ROOT, "server/durable")).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));

  it("is where the layer is, and the scan finds a game where there is one", () => {
    expect(layer).toContain("durable-room.ts");
    expect(loadedBy("server/rooms/arena-room.ts")).toContain("shared/schema.ts");
    expect(loadedBy("server/rooms/arena-room.ts")).toContain("server/durable/durable-room.ts");
  });

  for (const file of layer) {
    it(`${file} loads no game`, () => {
      const games = [...loadedBy(`server/durable/${file}`)].filter((m) => GAME_MODULES.some((g) => g.test(m)));
      expect(games).toEqual([]);
    });
  }
});
