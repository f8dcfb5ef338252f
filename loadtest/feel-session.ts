/**
 * Two players on the game's own client library, driven at 60 frames a second as a browser would:
 * one (the mover) holds its stick in legs, out along a clear lane, rest, back, rest; the other
 * (the watcher) only looks. Everything either of them draws, predicts, corrects and receives is
 * recorded, for the feel benchmark and the netcode tests to judge (feel-metrics.ts).
 */
import { type ArenaSession, joinArena, type Stick } from "../client/lib/node.ts";
import { ARENA_HEIGHT, ARENA_WIDTH, OBSTACLES, PLAYER_RADIUS } from "../shared/constants.ts";
import { waitFor } from "./processes.ts";

export const FRAME_HZ = 60;
/** How long each leg (a held stick, or a rest) lasts. */
export const LEG_MS = 1500;
/** Play before the script starts, for the clocks and round-trip estimates to settle. */
const WARMUP_MS = 1000;
/** A leg from rest covers about 480 units; the lane leaves room for the glide after it. */
const LANE_LENGTH = 560;
const LANE_MARGIN = 12;
/**
 * A quarter of random spawn pairs leave the mover no clear lane (measured over 20 000 seeded worlds:
 * 25.6 %), so five joins failed a session about once in a thousand, and a whole benchmark run of
 * sessions about once in fifty; twenty fail about once in 10^12.
 */
const MAX_JOINS = 20;

export interface FeelRecord {
  readonly tickHz: number;
  /** One entry per frame drawn while the script ran. */
  readonly frames: FrameLog;
  /** The mover's legs: when each began (frame time) and the stick held in it. */
  readonly legs: { readonly at: number; readonly stick: Stick; readonly firstSeq: number }[];
  /** What the watcher was told about the mover, patch by patch: server stamp and motion. */
  readonly patches: { at: number[]; x: number[]; y: number[]; vx: number[]; vy: number[] };
  /** Every reconcile of the mover: when, by how far it moved the prediction, and the inputs it newly acknowledged. */
  readonly corrections: { t: number[]; px: number[]; fromSeq: number[]; toSeq: number[] };
  /** Milliseconds from sending each of the mover's inputs to the patch that acknowledged it. */
  readonly ackLatencies: number[];
  /** How often the mover's ack moved by 0, 1, 2, … inputs from one patch to the next. */
  readonly ackSteps: number[];
}

export interface FrameLog {
  t: number[];
  /** The mover's own player as drawn, and as its last state said. */
  ownX: number[];
  ownY: number[];
  ownAuthX: number[];
  ownAuthY: number[];
  /** The mover as the watcher draws it, and as the watcher's last state said. */
  seenX: number[];
  seenY: number[];
  seenAuthX: number[];
  seenAuthY: number[];
  /** The server instant the watcher drew other players at, and the stamp of its newest patch. */
  drawnAt: number[];
  newestAt: number[];
  /** The watcher's extra interpolation delay (DrawClock) at each frame. */
  extraMs: number[];
}

interface Lane {
  readonly dx: number;
  readonly dy: number;
}

/** Joins a mover and a watcher into one room at `url`, plays `seconds` of legs and leaves. */
export async function playFeelSession(url: string, seconds: number): Promise<FeelRecord> {
  for (let attempt = 1; ; attempt++) {
    const mover = await joinArena({ url, name: "mover" });
    const watcher = await joinArena({ url, name: "watcher", roomId: mover.room.roomId });
    try {
      await waitFor(
        () => watcher.state?.players?.has(mover.sessionId) === true && mover.state?.players?.has(watcher.sessionId) === true,
        10_000,
        () => "mover and watcher in each other's state",
      );
      const lane = clearLane(mover, watcher);
      if (lane) return await play(mover, watcher, lane, seconds);
      if (attempt >= MAX_JOINS) throw new Error(`no clear lane for the mover after ${MAX_JOINS} joins`);
    } finally {
      await Promise.all([mover.leave(), watcher.leave()]);
    }
  }
}

/** A straight lane from the mover's spawn that stays off the walls, the pillars and the watcher. */
function clearLane(mover: ArenaSession, watcher: ArenaSession): Lane | undefined {
  const m = mover.me!;
  const w = watcher.me!;
  for (const [dx, dy] of [
    [1, 0],
    [-1, 0],
    [0, 1],
    [0, -1],
  ] as const) {
    const ex = m.x + dx * LANE_LENGTH;
    const ey = m.y + dy * LANE_LENGTH;
    const inside = (x: number, y: number) =>
      x >= PLAYER_RADIUS + LANE_MARGIN && x <= ARENA_WIDTH - PLAYER_RADIUS - LANE_MARGIN && y >= PLAYER_RADIUS + LANE_MARGIN && y <= ARENA_HEIGHT - PLAYER_RADIUS - LANE_MARGIN;
    if (!inside(m.x - dx * LANE_MARGIN, m.y - dy * LANE_MARGIN) || !inside(ex, ey)) continue;
    const clearOf = (cx: number, cy: number, r: number) => segmentDistance(m.x, m.y, ex, ey, cx, cy) >= r + PLAYER_RADIUS + LANE_MARGIN;
    if (OBSTACLES.every((o) => clearOf(o.x, o.y, o.r)) && clearOf(w.x, w.y, PLAYER_RADIUS + LANE_MARGIN)) return { dx, dy };
  }
  return undefined;
}

function segmentDistance(ax: number, ay: number, bx: number, by: number, px: number, py: number): number {
  const vx = bx - ax;
  const vy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * vx + (py - ay) * vy) / (vx * vx + vy * vy)));
  return Math.hypot(ax + t * vx - px, ay + t * vy - py);
}

async function play(mover: ArenaSession, watcher: ArenaSession, lane: Lane, seconds: number): Promise<FeelRecord> {
  const frames: FrameLog = { t: [], ownX: [], ownY: [], ownAuthX: [], ownAuthY: [], seenX: [], seenY: [], seenAuthX: [], seenAuthY: [], drawnAt: [], newestAt: [], extraMs: [] };
  const record: FeelRecord = {
    tickHz: mover.tickHz,
    frames,
    legs: [],
    patches: { at: [], x: [], y: [], vx: [], vy: [] },
    corrections: { t: [], px: [], fromSeq: [], toSeq: [] },
    ackLatencies: [],
    ackSteps: [],
  };
  let measuring = false;
  const sentAt: number[] = [];
  let acked = mover.input.lastProcessed;
  mover.room.onStateChange(() => {
    const ack = mover.input.lastProcessed;
    if (!measuring) {
      acked = ack;
      return;
    }
    const now = performance.now();
    const step = Math.max(0, ack - acked);
    record.ackSteps[step] = (record.ackSteps[step] ?? 0) + 1;
    for (let seq = acked + 1; seq <= ack; seq++) if (sentAt[seq] !== undefined) record.ackLatencies.push(now - sentAt[seq]!);
    acked = Math.max(acked, ack);
  });
  let reconciledTo = mover.input.lastProcessed;
  mover.onCorrection((px) => {
    const to = mover.input.lastProcessed;
    if (measuring) {
      record.corrections.t.push(performance.now());
      record.corrections.px.push(px);
      record.corrections.fromSeq.push(reconciledTo + 1);
      record.corrections.toSeq.push(to);
    }
    reconciledTo = to;
  });
  watcher.room.onStateChange((state) => {
    const p = state.players.get(mover.sessionId);
    if (!measuring || !p) return;
    record.patches.at.push(watcher.room.clock.lastServerTime());
    record.patches.x.push(p.x);
    record.patches.y.push(p.y);
    record.patches.vx.push(p.vx);
    record.patches.vy.push(p.vy);
  });

  const script = [
    { x: lane.dx, y: lane.dy },
    { x: 0, y: 0 },
    { x: -lane.dx, y: -lane.dy },
    { x: 0, y: 0 },
  ];
  const own = { x: 0, y: 0 };
  const seen = { x: 0, y: 0 };
  const started = performance.now();
  const scriptAt = started + WARMUP_MS;
  const endAt = scriptAt + seconds * 1000;
  let leg = -1;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      if (now >= endAt) {
        clearInterval(timer);
        resolve();
        return;
      }
      if (now >= scriptAt) {
        measuring = true;
        const due = Math.floor((now - scriptAt) / LEG_MS);
        if (due !== leg) {
          leg = due;
          const stick = script[leg % script.length]!;
          mover.stick.x = stick.x;
          mover.stick.y = stick.y;
          record.legs.push({ at: now, stick, firstSeq: mover.input.sentCount + 1 });
        }
      }
      // The watcher draws first, as its own page would: its interpolation reads the real clock when
      // it draws, so drawn after the mover's frame it carried the mover's work into its timeline (a
      // frame drawn 14 ms late read as a jump and the next one as a freeze).
      watcher.frame(now);
      const him = watcher.state.players.get(mover.sessionId)!;
      if (measuring) watcher.positionOf(him, seen);
      const drawnAt = watcher.othersDrawnAt;
      mover.frame(now);
      for (let seq = sentAt.length; seq <= mover.input.sentCount; seq++) sentAt[seq] = now;
      if (!measuring) return;
      const me = mover.me!;
      mover.positionOf(me, own);
      frames.t.push(now);
      frames.ownX.push(own.x);
      frames.ownY.push(own.y);
      frames.ownAuthX.push(me.x);
      frames.ownAuthY.push(me.y);
      frames.seenX.push(seen.x);
      frames.seenY.push(seen.y);
      frames.seenAuthX.push(him.x);
      frames.seenAuthY.push(him.y);
      frames.drawnAt.push(drawnAt);
      frames.newestAt.push(watcher.room.clock.lastServerTime());
      frames.extraMs.push(watcher.othersExtraDelayMs);
    }, 1000 / FRAME_HZ);
  });
  return record;
}
