import { describe, expect, it } from "vitest";
import { ArenaState } from "../../shared/schema.ts";
import { ArenaWorld } from "./arena-world.ts";
import { Rng } from "./rng.ts";
import { parseCheckpointWorld, snapshotWorld } from "./snapshot.ts";

const SEATS = ["sessAAAAA", "sessBBBBB"];

/** The world an arena room with two players checkpoints, as plain data to spoil. */
function written(): any {
  const world = new ArenaWorld(new ArenaState(), new Rng(7));
  world.addPlayer("sessAAAAA", "Ada");
  world.addPlayer("sessBBBBB", "Bob");
  for (let i = 0; i < 40; i++) world.step(1 / 30, () => ({ x: 1, y: 0 }));
  return JSON.parse(JSON.stringify(snapshotWorld(world)));
}

const refusal = (world: unknown, tick: number, seats = SEATS) => {
  try {
    parseCheckpointWorld(world, tick, seats);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("accepted");
};

describe("parseCheckpointWorld", () => {
  it("reads what a room writes", () => {
    const world = written();
    expect(Object.keys(parseCheckpointWorld(world, world.state.tick, SEATS).state.players)).toEqual(SEATS);
  });

  const spoilt: [string, (w: any, seats: string[]) => void, string][] = [
    ["a player's x that is not a number", (w) => (w.state.players.sessAAAAA.x = "abc"), "x is not a finite number"],
    ["a name over 16 characters", (w) => (w.state.players.sessAAAAA.name = "n".repeat(17)), "name is not within the join rules"],
    ["a 20 kB name", (w) => (w.state.players.sessAAAAA.name = "n".repeat(20_000)), "name is not within the join rules"],
    ["a name with a control character", (w) => (w.state.players.sessAAAAA.name = "bell\u0007"), "name is not within the join rules"],
    ["a colour outside the palette", (w) => (w.state.players.sessAAAAA.color = 8), "color"],
    ["a negative score", (w) => (w.state.players.sessAAAAA.score = -1), "score"],
    ["a coin key it never made", (w) => (w.state.coins.constructor = { x: 1, y: 1 }), "coin key"],
    ["a visit order naming a player twice", (w) => (w.order = ["sessAAAAA", "sessAAAAA"]), "order does not list each player once"],
    ["a visit order naming nobody in the world", (w) => (w.order = ["sessAAAAA", "sessCCCCC"]), "order does not list each player once"],
    ["a visit order that is not a list", (w) => (w.order = "sessAAAAA"), "order does not list each player once"],
    ["13 coins", (w) => { for (let i = 0; i < 13; i++) w.state.coins[`c${i}`] = { x: 1, y: 1 }; w.nextCoinId = 13; }, "13 coins"],
    ["65 players", (w) => { for (let i = 0; i < 63; i++) w.state.players[`p${i}`] = w.state.players.sessAAAAA; }, "65 players"],
    ["a seat more than players", (_w, seats) => seats.push("sessCCCCC"), "3 seats for 2 players"],
    ["a player without a seat", (_w, seats) => seats.pop(), "1 seats for 2 players"],
    ["a seat naming no player", (_w, seats) => (seats[1] = "sessCCCCC"), "seat sessCCCCC has no player"],
    ["a world of another version", (w) => (w.version = 2), "unknown version"],
  ];
  for (const [what, spoil, reason] of spoilt) {
    it(`refuses ${what}`, () => {
      const world = written();
      const seats = [...SEATS];
      spoil(world, seats);
      expect(refusal(world, world.state.tick, seats)).toContain(reason);
    });
  }

  it("refuses a tick the schema cannot carry", () => {
    const world = written();
    world.state.tick = 2 ** 32;
    expect(refusal(world, 2 ** 32)).toContain("tick is beyond the schema's uint32");
  });

  it("refuses a world of another tick than its checkpoint's", () => {
    const world = written();
    expect(refusal(world, world.state.tick + 1)).toContain("world tick");
  });

  for (const key of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
    it(`refuses a player keyed ${key}, which the schema encoder cannot serve`, () => {
      // Built as text: an object literal cannot hold an own "__proto__" key, JSON can.
      const world = JSON.parse(JSON.stringify(written()).replace('"sessAAAAA":{', `"${key}":{`));
      expect(refusal(world, world.state.tick, [key, "sessBBBBB"])).toContain(`player key "${key}" is not a session id`);
    });
  }

  it("refuses a velocity beyond a double, which JSON reads as Infinity", () => {
    const world = JSON.parse(JSON.stringify(written()).replace(/"vy":[^,}]+/, '"vy":1e999'));
    expect(refusal(world, world.state.tick)).toContain("vy is not a finite number");
  });
});
