/**
 * The drain hitch a game's own clients see when they use the stock `@colyseus/sdk`, not Locus's
 * client library: in one arena room, some clients keep the SDK's reconnection defaults and the
 * others set `reconnection.minUptime`, `delay` and `minDelay` as client/lib does. Their node is
 * drained, back and forth between two nodes, and each client's longest gap between two state
 * frames is its hitch. Both kinds go through the same drains, so their figures compare side by
 * side on a loaded machine.
 */
import "../../client/lib/use-ws.ts";
import { Client, type Room } from "@colyseus/sdk";
import { reconnectPromptly } from "../../client/lib/reconnection.ts";
import { ROOM_NAME } from "../../shared/constants.ts";
import { type LocusProcess, type RunningProcess, startGatewayProcess, startNodeProcess, startRedis, waitFor } from "../processes.ts";
import { BENCH_TOKEN } from "./capacity.ts";

export const SDK_KINDS = ["stock defaults", "minUptime 0, delay 5, minDelay 5 (client/lib)"] as const;
export type SdkKind = (typeof SDK_KINDS)[number];

export interface SdkHitchOptions {
  readonly drains: number;
  /** Clients of each kind in the room. */
  readonly clientsPerKind: number;
  readonly cpus: string | undefined;
}

export interface SdkHitchRun {
  /** Per kind, one hitch per client and drain, in milliseconds. */
  readonly hitchesMs: Record<SdkKind, number[]>;
  /** Per kind, the hitch of each drain: the worst client of that kind in it. */
  readonly worstPerDrainMs: Record<SdkKind, number[]>;
  /** Clients the SDK gave up on (left the room) over every drain. */
  readonly left: number;
}

/**
 * The SDK waits until a room has been joined this long (its default `minUptime`) before it will
 * reconnect at all; the drains start after it, so the defaults get their fair chance.
 */
const STOCK_MIN_UPTIME_MS = 5000;

interface Watched {
  readonly kind: SdkKind;
  readonly room: Room<any, any>;
  /** performance.now() of every state change in the current window. */
  frames: number[];
  nodeId: string;
  left: boolean;
}

function watch(kind: SdkKind, room: Room<any, any>): Watched {
  const w: Watched = { kind, room, frames: [], nodeId: "", left: false };
  room.onStateChange((state: { nodeId: string }) => {
    w.frames.push(performance.now());
    w.nodeId = state.nodeId;
  });
  room.onLeave(() => (w.left = true));
  return w;
}

function longestGap(frames: readonly number[]): number {
  let gap = 0;
  for (let i = 1; i < frames.length; i++) gap = Math.max(gap, frames[i]! - frames[i - 1]!);
  return gap;
}

export async function measureSdkHitch(o: SdkHitchOptions, progress: (line: string) => void): Promise<SdkHitchRun> {
  const redis = await startRedis({ cpus: o.cpus });
  const everything: RunningProcess[] = [redis];
  const watched: Watched[] = [];
  const headers = { authorization: `Bearer ${BENCH_TOKEN}` };
  const env = (nodeId: string) => ({ REDIS_URL: redis.redisUrl, NODE_ID: nodeId, ADMIN_TOKEN: BENCH_TOKEN, MAX_PLAYERS: String(o.clientsPerKind), LOG_LEVEL: "warn" });
  try {
    const nodes = new Map<string, LocusProcess>();
    const startNode = async (id: string) => {
      const node = await startNodeProcess(env(id), { cpus: o.cpus });
      nodes.set(id, node);
      everything.push(node);
    };
    await startNode("n1");
    const gateway = await startGatewayProcess({ REDIS_URL: redis.redisUrl, LOG_LEVEL: "warn" }, { cpus: o.cpus });
    everything.push(gateway);
    // A moved room resumes when all its players are back, so the slower kind would hold the
    // quicker one up in a shared room: each kind has a room of its own, both on one node.
    const client = new Client(gateway.url);
    for (const kind of SDK_KINDS) {
      let roomId: string | undefined;
      for (let i = 0; i < o.clientsPerKind; i++) {
        const options = { name: `sdk${watched.length}` };
        const room = roomId ? await client.joinById(roomId, options) : await client.create(ROOM_NAME, options);
        roomId = room.roomId;
        if (kind !== "stock defaults") reconnectPromptly(room);
        watched.push(watch(kind, room));
      }
    }
    await startNode("n2");
    await new Promise((r) => setTimeout(r, STOCK_MIN_UPTIME_MS + 500));

    const hitchesMs = Object.fromEntries(SDK_KINDS.map((k) => [k, [] as number[]])) as Record<SdkKind, number[]>;
    const worstPerDrainMs = Object.fromEntries(SDK_KINDS.map((k) => [k, [] as number[]])) as Record<SdkKind, number[]>;
    for (let d = 0; d < o.drains; d++) {
      await waitFor(() => watched.every((w) => w.nodeId === watched[0]!.nodeId), 10_000, () => "every client on one node");
      const from = watched[0]!.nodeId;
      const node = nodes.get(from)!;
      // The last frame before the drain opens the window: a room frozen before its next frame still shows its whole gap.
      for (const w of watched) w.frames = w.frames.slice(-1);
      const res = await fetch(`${node.adminUrl}/admin/drain`, { method: "POST", headers });
      if (res.status !== 202) throw new Error(`drain of ${from} refused: ${res.status} ${await res.text()}`);
      await waitFor(async () => ((await (await fetch(`${node.adminUrl}/admin/status`, { headers })).json()) as { state: string }).state === "drained", 30_000);
      await waitFor(() => watched.every((w) => w.left || w.nodeId !== from), 30_000, () => "every client on the room's new node");
      // A few ordinary frames after the move, so a hitch is always closed by one.
      await new Promise((r) => setTimeout(r, 300));
      for (const kind of SDK_KINDS) {
        const gaps = watched.filter((w) => w.kind === kind && !w.left).map((w) => longestGap(w.frames));
        hitchesMs[kind].push(...gaps);
        worstPerDrainMs[kind].push(Math.max(...gaps));
      }
      progress(`sdk-hitch: drain ${d + 1}/${o.drains} from ${from}: ${SDK_KINDS.map((k) => `${k}: ${worstPerDrainMs[k].at(-1)!.toFixed(0)} ms`).join(", ")}`);
      const undrained = await fetch(`${node.adminUrl}/admin/undrain`, { method: "POST", headers });
      if (undrained.status !== 200) throw new Error(`undrain of ${from} refused: ${undrained.status}`);
      await waitFor(async () => (await fetch(`${node.url}/readyz`)).status === 200, 10_000);
      // The gateway learns the undrained node is ready again from its next heartbeat.
      await new Promise((r) => setTimeout(r, 1500));
    }
    return { hitchesMs, worstPerDrainMs, left: watched.filter((w) => w.left).length };
  } finally {
    for (const w of watched) {
      w.room.reconnection.enabled = false;
      w.room.connection.close();
    }
    await Promise.all(everything.map((p) => p.stop()));
  }
}
