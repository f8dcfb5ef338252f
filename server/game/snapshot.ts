/**
 * A world as plain data: everything needed to rebuild a room's simulation exactly where it was,
 * the schema state plus what lives beside it (the random state and the coin counter). Plain
 * JSON because a decoded schema instance cannot be re-encoded, while a restored one can.
 */
import { ArenaState } from "../../shared/schema.ts";
import { ArenaWorld } from "./arena-world.ts";
import { Rng } from "./rng.ts";

export const WORLD_SNAPSHOT_VERSION = 1;

export interface WorldSnapshot {
  readonly version: typeof WORLD_SNAPSHOT_VERSION;
  readonly state: ReturnType<ArenaState["toJSON"]>;
  readonly rng: number;
  readonly nextCoinId: number;
}

export function snapshotWorld(world: ArenaWorld): WorldSnapshot {
  return {
    version: WORLD_SNAPSHOT_VERSION,
    state: world.state.toJSON(),
    rng: world.rng.state,
    nextCoinId: world.nextCoinId,
  };
}

/** Rebuilds a world into `state` (a fresh one by default; a room passes the state it already serves). */
export function restoreWorld(snapshot: WorldSnapshot, state: ArenaState = new ArenaState()): ArenaWorld {
  return new ArenaWorld(state.restore(snapshot.state), new Rng(snapshot.rng), snapshot.nextCoinId);
}
