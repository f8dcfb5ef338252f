/**
 * Determinism as a checked property: a world run for thousands of ticks under scripted and random
 * inputs, seats coming and going, is snapshotted at random ticks; each snapshot, restored through
 * JSON as a checkpoint is, and fed the records the run made from then on, must end bit for bit
 * where the run ended. A step that reads Math.random or the wall clock fails the same check.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Stick } from "../../shared/physics.ts";
import { ArenaState } from "../../shared/schema.ts";
import { type ArenaRecord, parseArenaRecord, replayArenaJournal, replayArenaRecord, StepRecorder } from "./arena-journal.ts";
import { ArenaWorld } from "./arena-world.ts";
import { Rng } from "./rng.ts";
import { restoreWorld, snapshotWorld } from "./snapshot.ts";

const DT = 1 / 30;
const TICKS = 3000;
const SNAPSHOTS = 12;

/** The world as a string in which every number is its float64 bit pattern: equal strings are equal bits (0 and -0 differ). */
function bits(world: ArenaWorld): string {
  const f = new Float64Array(1);
  const u = new BigUint64Array(f.buffer);
  return JSON.stringify(snapshotWorld(world), (_key, v: unknown) => {
    if (typeof v !== "number") return v;
    f[0] = v;
    return u[0]!.toString(16);
  });
}

interface Run {
  readonly final: string;
  /** Snapshots as a checkpoint carries them (JSON text), with how many records preceded each. */
  readonly snapshots: { readonly at: number; readonly json: string }[];
  readonly records: ArenaRecord[];
}

/**
 * Plays a world the way the room drives it: seats change between steps, and each step's sticks
 * come through the StepRecorder. Inputs are scripted for the first players and drawn from a
 * separate seeded generator (with -0, exact ±1 and sitting out among them) for the others.
 */
function play(makeWorld: () => ArenaWorld, seed: number): Run {
  const world = makeWorld();
  const choose = new Rng(seed);
  const records: ArenaRecord[] = [];
  const snapshotTicks = new Set<number>();
  while (snapshotTicks.size < SNAPSHOTS) snapshotTicks.add(Math.floor(choose.next() * TICKS));
  const snapshots: Run["snapshots"] = [];
  const recorder = new StepRecorder();
  let nextId = 0;
  const seated: string[] = [];
  const apply = (record: ArenaRecord) => {
    replayArenaRecord(world, record);
    records.push(record);
  };
  const stick = { x: 0, y: 0 };
  const stickOf = (id: string): Stick | undefined => {
    const n = world.state.tick;
    if (id.endsWith("-0") || id.endsWith("-1")) {
      stick.x = ((n * 7 + id.length) % 3) - 1;
      stick.y = ((n * 5) % 3) - 1;
      return recorder.note(stick);
    }
    const r = choose.next();
    if (r < 0.1) return recorder.note(undefined);
    if (r < 0.15) return recorder.note({ x: -0, y: r < 0.12 ? 0 : -0 });
    stick.x = Math.fround(choose.next() * 2.2 - 1.1);
    stick.y = r < 0.3 ? 1 : Math.fround(choose.next() * 2 - 1);
    return recorder.note({ x: Math.max(-1, Math.min(1, stick.x)), y: stick.y });
  };
  // Now and then a player that moved catches up (moves a second time), as one the room waited for does.
  const catchUpOf = (): Stick | undefined => {
    const r = choose.next();
    if (r >= 0.05) return recorder.noteAgain(undefined);
    return recorder.noteAgain({ x: Math.fround(choose.next() * 2 - 1), y: r < 0.02 ? -1 : -0 });
  };
  for (let t = 0; t < TICKS; t++) {
    if (snapshotTicks.has(t)) snapshots.push({ at: records.length, json: JSON.stringify(snapshotWorld(world)) });
    const r = choose.next();
    if (seated.length < 2 || (r < 0.01 && seated.length < 12)) {
      // Every third id all digits, as a session id can be: JSON puts such a key first.
      const id = nextId % 3 === 2 ? String(300_000_000 + nextId++) : `s-${nextId++}`;
      seated.push(id);
      apply(["j", id, `p${nextId}`]);
    } else if (r < 0.015 && seated.length > 2) {
      apply(["l", seated.splice(2 + Math.floor(choose.next() * (seated.length - 2)), 1)[0]!]);
    } else if (r < 0.025) {
      const id = seated[Math.floor(choose.next() * seated.length)]!;
      apply(["c", id, world.state.players.get(id)!.connected ? 0 : 1]);
    }
    world.step(DT, stickOf, catchUpOf);
    records.push(recorder.take(DT));
  }
  return { final: bits(world), snapshots, records: JSON.parse(JSON.stringify(records)) as ArenaRecord[] };
}

/** The ticks whose snapshot, replayed with the recorded records, does not end where the run did. */
function divergentReplays(run: Run, restore: (json: string) => ArenaWorld): number[] {
  const divergent: number[] = [];
  for (const { at, json } of run.snapshots) {
    const world = restore(json);
    for (let i = at; i < run.records.length; i++) replayArenaRecord(world, parseArenaRecord(run.records[i]));
    if (bits(world) !== run.final) divergent.push(at);
  }
  return divergent;
}

/** A world whose step reads something other than its inputs and its own state. */
class LeakyWorld extends ArenaWorld {
  private readonly leak: () => number;

  constructor(leak: () => number, state = new ArenaState(), rng = new Rng(7), nextCoinId = 0, order?: readonly string[]) {
    super(state, rng, nextCoinId, order);
    this.leak = leak;
  }

  /** Restores a snapshot as restoreWorld does, into a leaky world. */
  static from(json: string, leak: () => number): LeakyWorld {
    const s = JSON.parse(json) as ReturnType<typeof snapshotWorld>;
    return new LeakyWorld(leak, new ArenaState().restore(s.state), new Rng(s.rng), s.nextCoinId, s.order);
  }

  override step(dt: number, stickOf: (sessionId: string) => Stick | undefined, catchUpOf?: (sessionId: string) => Stick | undefined): void {
    super.step(dt, stickOf, catchUpOf);
    this.state.players.forEach((p) => (p.x += this.leak() * 1e-9));
  }
}

describe("the arena's step is deterministic", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  for (const seed of [1, 2024, 0x5eed]) {
    it(`replays from ${SNAPSHOTS} random snapshots of a ${TICKS}-tick run bit for bit (seed ${seed})`, () => {
      const run = play(() => new ArenaWorld(new ArenaState(), new Rng(seed)), seed);
      expect(run.records.filter((r) => r[0] === "j").length).toBeGreaterThan(5);
      expect(run.records.filter((r) => r[0] === "l").length).toBeGreaterThan(0);
      expect(run.records.filter((r) => r[0] === "c").length).toBeGreaterThan(0);
      expect(run.records.filter((r) => r[0] === "t" && r.length === 4).length).toBeGreaterThan(0);
      expect(divergentReplays(run, (json) => restoreWorld(JSON.parse(json)))).toEqual([]);
    });
  }

  it("the check itself sees a single flipped bit", () => {
    const run = play(() => new ArenaWorld(new ArenaState(), new Rng(3)), 3);
    const nudged = (json: string) => {
      const world = restoreWorld(JSON.parse(json));
      world.rng.state ^= 1;
      return world;
    };
    expect(divergentReplays(run, nudged)).toHaveLength(SNAPSHOTS);
  });

  it("catches a step that reads Math.random", () => {
    const run = play(() => new LeakyWorld(Math.random), 4);
    expect(divergentReplays(run, (json) => LeakyWorld.from(json, Math.random))).not.toEqual([]);
  });

  it("catches a step that reads the wall clock", () => {
    // The clock advances a millisecond per read, as a real one would over a run: the replay runs later than the original did.
    vi.useFakeTimers({ now: 1_700_000_000_000 });
    const clock = () => {
      vi.advanceTimersByTime(1);
      return Date.now() % 1000;
    };
    const run = play(() => new LeakyWorld(clock), 5);
    expect(divergentReplays(run, (json) => LeakyWorld.from(json, clock))).not.toEqual([]);
  });
});

describe("replaying a rebuilt room's journal", () => {
  const world = () => {
    const w = new ArenaWorld(new ArenaState(), new Rng(9));
    w.addPlayer("s-a", "a");
    w.addPlayer("s-b", "b");
    return w;
  };
  const sticks = (...each: (Stick | undefined)[]): ArenaRecord => {
    const recorder = new StepRecorder();
    for (const stick of each) recorder.note(stick);
    return recorder.take(DT);
  };
  const step = sticks({ x: 1, y: 0 }, undefined);
  const raw = (...axes: number[]) => {
    const bytes = Buffer.alloc(axes.length * 4);
    axes.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
    return bytes.toString("base64");
  };

  it("runs a catch-up's second step for its player only", () => {
    const recorder = new StepRecorder();
    recorder.note({ x: 1, y: 0 });
    recorder.noteAgain({ x: 1, y: 0 });
    recorder.note({ x: 0, y: 1 });
    recorder.noteAgain(undefined);
    const caughtUp = recorder.take(DT);
    const twice = world();
    replayArenaJournal(twice, [caughtUp]);
    const stepped = world();
    replayArenaJournal(stepped, [sticks({ x: 1, y: 0 }, { x: 0, y: 1 }), sticks({ x: 1, y: 0 }, undefined)]);
    const a = twice.state.players.get("s-a")!;
    const b = twice.state.players.get("s-b")!;
    expect([a.x, a.vx]).toEqual([stepped.state.players.get("s-a")!.x, stepped.state.players.get("s-a")!.vx]);
    expect([b.x, b.vx]).toEqual([stepped.state.players.get("s-b")!.x, stepped.state.players.get("s-b")!.vx]);
    expect(twice.state.tick).toBe(1);
  });

  it("stops before the first seat taken or freed", () => {
    const w = world();
    expect(replayArenaJournal(w, [step, ["c", "s-b", 0], step, ["j", "s-c", "c"], step])).toBe(3);
    expect(w.state.tick).toBe(2);
    expect(w.playerCount).toBe(2);
  });

  it("refuses records that do not fit the world, or are not records, with the world unchanged", () => {
    const bads = [
      [step, sticks({ x: 1, y: 0 })],
      [step, ["c", "s-z", 1]],
      [step, ["t", DT, raw(2, 0, Number.NaN, Number.NaN)]],
      [step, ["t", DT, raw(1, Number.NaN, 0, 0)]],
      [step, ["t", DT, raw(1, 0, 0)]],
      [step, ["t", DT, "not base64!"]],
      [step, ["t", DT, raw(1, 0, Number.NaN, Number.NaN), raw(1, 0)]],
      [step, ["t", DT, raw(1, 0, Number.NaN, Number.NaN), raw(2, 0, Number.NaN, Number.NaN)]],
      [step, ["t", DT, raw(1, 0, Number.NaN, Number.NaN), raw(1, 0, Number.NaN, Number.NaN), ""]],
      [step, "junk"],
    ];
    for (const bad of bads) {
      const w = world();
      const before = bits(w);
      expect(() => replayArenaJournal(w, bad)).toThrow();
      expect(bits(w)).toBe(before);
    }
  });
});
