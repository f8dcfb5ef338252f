import { describe, expect, it } from "vitest";
import { tokenHasher } from "./token-hash.ts";
import { type Checkpoint, CheckpointError, MAX_CHECKPOINT_BYTES, parseCheckpoint } from "./checkpoint.ts";

const hash = tokenHasher("admin-token-for-tests-0123");

/** A checkpoint as a durable room with two seats writes it, as plain data to spoil. */
function written(): any {
  const checkpoint: Checkpoint = {
    format: 3,
    roomId: "r1",
    name: "tiny",
    nodeId: "n1",
    epoch: 3,
    takenAt: Date.now(),
    tick: 41,
    nextRefId: 40,
    seats: [
      { sessionId: "sessAAAAA", tokenHash: hash("tokenAAAA") },
      { sessionId: "sessBBBBB", tokenHash: hash("tokenBBBB") },
    ],
    game: { version: 2, data: { anything: ["the game", "checks"] } },
  };
  return JSON.parse(JSON.stringify(checkpoint));
}

/** A format 2 checkpoint, as arena nodes before the durable-room layer wrote them. */
function format2(): any {
  const { name: _, game, seats, ...rest } = written();
  return {
    ...rest,
    format: 2,
    world: { version: 1, state: { tick: 41, players: {} }, rng: 5, nextCoinId: 0, ...game.data },
    seats: seats.map((s: any, i: number) => ({ ...s, name: ["Ada", "Bob"][i], inputsConsumed: 12 })),
  };
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
  it("reads what a room writes, its game section untouched", () => {
    const cp = parse(written());
    expect(cp.name).toBe("tiny");
    expect(cp.seats).toEqual([
      { sessionId: "sessAAAAA", tokenHash: hash("tokenAAAA") },
      { sessionId: "sessBBBBB", tokenHash: hash("tokenBBBB") },
    ]);
    expect(cp.game).toEqual({ version: 2, data: { anything: ["the game", "checks"] } });
  });

  it("reads format 2 as an arena checkpoint whose game section is the world, so a rolling deploy loses no room", () => {
    const old = format2();
    const cp = parse(old);
    expect(cp.format).toBe(3);
    expect(cp.name).toBe("arena");
    expect(cp.game).toEqual({ version: 1, data: old.world });
    expect(cp.seats).toEqual([
      { sessionId: "sessAAAAA", tokenHash: hash("tokenAAAA") },
      { sessionId: "sessBBBBB", tokenHash: hash("tokenBBBB") },
    ]);
  });

  it("reads format 1, hashing its plain tokens", () => {
    const old = format2();
    old.format = 1;
    old.seats = old.seats.map(({ tokenHash: _, ...seat }: any, i: number) => ({ ...seat, reconnectionToken: ["tokenAAAA", "tokenBBBB"][i] }));
    const cp = parse(old);
    expect(cp.name).toBe("arena");
    expect(cp.seats.map((s) => s.tokenHash)).toEqual([hash("tokenAAAA"), hash("tokenBBBB")]);
    expect(JSON.stringify(cp)).not.toContain("tokenAAAA");
  });

  it("refuses what the bounded read did not even fetch", () => {
    expect(() => parseCheckpoint({ status: "too_large", bytes: 20_000_000 }, "r1", hash)).toThrow(`over the ${MAX_CHECKPOINT_BYTES}-byte limit`);
    expect(() => parseCheckpoint({ status: "wrong_type", type: "hash" }, "r1", hash)).toThrow("holds a hash");
    expect(() => parseCheckpoint({ status: "missing" }, "r1", hash)).toThrow("no checkpoint was written");
  });

  const spoilt: [string, (cp: any) => void, string][] = [
    ["a seat listed twice", (cp) => (cp.seats[1] = cp.seats[0]), "listed twice"],
    ["a seat keyed constructor", (cp) => (cp.seats[0].sessionId = "constructor"), 'seat "constructor" is not a session id'],
    ["a seat that is not an object", (cp) => (cp.seats[0] = 7), "a seat is not an object"],
    ["a plain token in format 3", (cp) => (cp.seats[0].tokenHash = "tokenAAAA"), "no valid token hash"],
    ["2000 seats", (cp) => (cp.seats = Array.from({ length: 2000 }, () => cp.seats[0])), "2000 seats"],
    ["another room's checkpoint", (cp) => (cp.roomId = "r2"), "is not r1"],
    ["an unknown format", (cp) => (cp.format = 4), "format 4"],
    ["a refId past the bound", (cp) => (cp.nextRefId = 2 ** 31), "nextRefId"],
    ["a negative tick", (cp) => (cp.tick = -1), "tick"],
    ["no room name", (cp) => delete cp.name, "name is not a room name"],
    ["a room name with a slash", (cp) => (cp.name = "../arena"), "name is not a room name"],
    ["no game section", (cp) => delete cp.game, "game is not { version, data }"],
    ["a game version that is not a count", (cp) => (cp.game.version = "2"), "game is not { version, data }"],
    ["a format 2 checkpoint without a world", (cp) => { cp.format = 2; delete cp.game; }, "game is not { version, data }"],
  ];
  for (const [what, spoil, reason] of spoilt) {
    it(`refuses ${what}`, () => {
      const cp = written();
      spoil(cp);
      expect(refusal(cp)).toContain(reason);
    });
  }

  it("refuses text that is not JSON, without echoing it", () => {
    expect(refusal(undefined, '{"format":3,"roomId":"r1","wor')).toBe("not JSON (30 bytes, truncated?)");
  });
});
