import { describe, expect, it } from "vitest";
import { ArenaState } from "../../shared/schema.ts";
import { ArenaWorld } from "../game/arena-world.ts";
import { Rng } from "../game/rng.ts";
import { snapshotWorld } from "../game/snapshot.ts";
import { type Checkpoint, CheckpointError, MAX_CHECKPOINT_BYTES, parseCheckpoint } from "./checkpoint.ts";
import { tokenHasher } from "./token-hash.ts";

const hash = tokenHasher("admin-token-for-tests-0123");

/** A checkpoint as a room with two players writes it, as plain data to spoil. */
function written(): any {
  const world = new ArenaWorld(new ArenaState(), new Rng(7));
  world.addPlayer("sessAAAAA", "Ada");
  world.addPlayer("sessBBBBB", "Bob");
  for (let i = 0; i < 40; i++) world.step(1 / 30, () => ({ x: 1, y: 0 }));
  const checkpoint: Checkpoint = {
    format: 2,
    roomId: "r1",
    nodeId: "n1",
    epoch: 3,
    takenAt: Date.now(),
    tick: world.state.tick,
    world: snapshotWorld(world),
    nextRefId: 40,
    seats: [
      { sessionId: "sessAAAAA", tokenHash: hash("tokenAAAA"), name: "Ada", inputsConsumed: 12 },
      { sessionId: "sessBBBBB", tokenHash: hash("tokenBBBB"), name: "Bob", inputsConsumed: 9 },
    ],
  };
  return JSON.parse(JSON.stringify(checkpoint));
}

const parse = (data: unknown, text = JSON.stringify(data)) => parseCheckpoint({ status: "ok", text }, "r1", hash);
const refusal = (data: unknown, text?: string) => {
  try {
    parse(data, text);
  } catch (err) {
    expect(err).toBeInstanceOf(CheckpointError);
    return (err as Error).message;
  }
  throw new Error("accepted");
};

describe("parseCheckpoint", () => {
  it("reads what a room writes", () => {
    const cp = parse(written());
    expect(cp.seats.map((s) => s.sessionId)).toEqual(["sessAAAAA", "sessBBBBB"]);
    expect(cp.seats[0]!.tokenHash).toBe(hash("tokenAAAA"));
  });

  it("reads format 1, hashing its plain tokens, so a rolling deploy loses no seat", () => {
    const old = written();
    old.format = 1;
    old.seats = old.seats.map(({ tokenHash: _, ...seat }: any, i: number) => ({ ...seat, reconnectionToken: ["tokenAAAA", "tokenBBBB"][i] }));
    const cp = parse(old);
    expect(cp.seats.map((s) => s.tokenHash)).toEqual([hash("tokenAAAA"), hash("tokenBBBB")]);
    expect(JSON.stringify(cp)).not.toContain("tokenAAAA");
  });

  it("refuses what the bounded read did not even fetch", () => {
    expect(() => parseCheckpoint({ status: "too_large", bytes: 20_000_000 }, "r1", hash)).toThrow(`over the ${MAX_CHECKPOINT_BYTES}-byte limit`);
    expect(() => parseCheckpoint({ status: "wrong_type", type: "hash" }, "r1", hash)).toThrow("holds a hash");
    expect(() => parseCheckpoint({ status: "missing" }, "r1", hash)).toThrow("no checkpoint was written");
  });

  const spoilt: [string, (cp: any) => void, string][] = [
    ["a player's x that is not a number", (cp) => (cp.world.state.players.sessAAAAA.x = "abc"), "x is not a finite number"],
    ["a name over 16 characters", (cp) => (cp.world.state.players.sessAAAAA.name = cp.seats[0].name = "n".repeat(17)), "name is not within the join rules"],
    ["a 20 kB name", (cp) => (cp.world.state.players.sessAAAAA.name = cp.seats[0].name = "n".repeat(20_000)), "name is not within the join rules"],
    ["a name with a control character", (cp) => (cp.world.state.players.sessAAAAA.name = cp.seats[0].name = "bell\u0007"), "name is not within the join rules"],
    ["a colour outside the palette", (cp) => (cp.world.state.players.sessAAAAA.color = 8), "color"],
    ["a negative score", (cp) => (cp.world.state.players.sessAAAAA.score = -1), "score"],
    ["a tick the schema cannot carry", (cp) => (cp.tick = cp.world.state.tick = 2 ** 32), "tick"],
    ["a world of another tick", (cp) => (cp.world.state.tick += 1), "world tick"],
    ["a coin key it never made", (cp) => (cp.world.state.coins.constructor = { x: 1, y: 1 }), "coin key"],
    ["13 coins", (cp) => { for (let i = 0; i < 13; i++) cp.world.state.coins[`c${i}`] = { x: 1, y: 1 }; cp.world.nextCoinId = 13; }, "13 coins"],
    ["65 players", (cp) => { for (let i = 0; i < 63; i++) cp.world.state.players[`p${i}`] = cp.world.state.players.sessAAAAA; }, "65 players"],
    ["a seat more than players", (cp) => cp.seats.push({ ...cp.seats[0], sessionId: "sessCCCCC" }), "3 seats for 2 players"],
    ["a player without a seat", (cp) => cp.seats.pop(), "1 seats for 2 players"],
    ["a seat listed twice", (cp) => (cp.seats[1] = cp.seats[0]), "listed twice"],
    ["a seat naming another player", (cp) => (cp.seats[0].name = "Bob"), "names another player"],
    ["a plain token in format 2", (cp) => (cp.seats[0].tokenHash = "tokenAAAA"), "no valid token hash"],
    ["another room's checkpoint", (cp) => (cp.roomId = "r2"), "is not r1"],
    ["an unknown format", (cp) => (cp.format = 3), "format 3"],
    ["a refId past the bound", (cp) => (cp.nextRefId = 2 ** 31), "nextRefId"],
  ];
  for (const [what, spoil, reason] of spoilt) {
    it(`refuses ${what}`, () => {
      const cp = written();
      spoil(cp);
      expect(refusal(cp)).toContain(reason);
    });
  }

  for (const key of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
    it(`refuses a player keyed ${key}, which the schema encoder cannot serve`, () => {
      const cp = written();
      // Built as text: an object literal cannot hold an own "__proto__" key, JSON can.
      const text = JSON.stringify(cp).replace('"sessAAAAA":{', `"${key}":{`).replace('"sessionId":"sessAAAAA"', `"sessionId":"${key}"`);
      expect(refusal(undefined, text)).toContain(`player key "${key}" is not a session id`);
    });
  }

  it("refuses a velocity beyond a double, which JSON reads as Infinity", () => {
    const text = JSON.stringify(written()).replace(/"vy":[^,}]+/, '"vy":1e999');
    expect(refusal(undefined, text)).toContain("vy is not a finite number");
  });

  it("refuses text that is not JSON, without echoing it", () => {
    expect(refusal(undefined, '{"format":2,"roomId":"r1","wor')).toBe("not JSON (30 bytes, truncated?)");
  });
});
