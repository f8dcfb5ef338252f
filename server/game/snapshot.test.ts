import { Decoder, Encoder } from "@colyseus/schema";
import { describe, expect, it } from "vitest";
import type { Stick } from "../../shared/physics.ts";
import { ArenaState } from "../../shared/schema.ts";
import { ArenaWorld } from "./arena-world.ts";
import { Rng } from "./rng.ts";
import { restoreWorld, snapshotWorld } from "./snapshot.ts";

const DT = 1 / 30;

function scripted(tickOffset: number): (id: string) => Stick {
  let n = tickOffset;
  const stick = { x: 0, y: 0 };
  return (id) => {
    n++;
    stick.x = ((n * 7 + id.length) % 3) - 1;
    stick.y = ((n * 5) % 3) - 1;
    return stick;
  };
}

function playedWorld(): ArenaWorld {
  const world = new ArenaWorld(new ArenaState(), new Rng(2024));
  for (const name of ["ada", "bob", "cyd", "dee"]) world.addPlayer(`s-${name}`, name);
  const sticks = scripted(0);
  for (let i = 0; i < 600; i++) world.step(DT, sticks);
  return world;
}

describe("world snapshot", () => {
  it("round-trips through JSON to the same state, random state and coin counter", () => {
    const world = playedWorld();
    const restored = restoreWorld(JSON.parse(JSON.stringify(snapshotWorld(world))));
    expect(restored.state.toJSON()).toEqual(world.state.toJSON());
    expect(restored.state.tick).toBe(600);
    expect(restored.state.coins.size).toBeGreaterThan(0);
    expect(restored.rng.state).toBe(world.rng.state);
    expect(restored.nextCoinId).toBe(world.nextCoinId);
  });

  it("carries on exactly as the original would have", () => {
    const original = playedWorld();
    const restored = restoreWorld(JSON.parse(JSON.stringify(snapshotWorld(original))));
    const a = scripted(1000);
    const b = scripted(1000);
    for (let i = 0; i < 300; i++) {
      original.step(DT, a);
      restored.step(DT, b);
    }
    expect(restored.state.toJSON()).toEqual(original.state.toJSON());
  });

  it("restores into a state that a client decodes exactly as it decodes the original", () => {
    const world = playedWorld();
    const restored = restoreWorld(snapshotWorld(world));
    const overTheWire = (state: ArenaState) => {
      const decoded = new ArenaState();
      new Decoder(decoded).decode(new Encoder(state).encodeAll());
      return decoded.toJSON();
    };
    const seen = overTheWire(restored.state);
    expect(seen).toEqual(overTheWire(world.state));
    expect(seen.players["s-ada"]!.name).toBe("ada");
  });
});
