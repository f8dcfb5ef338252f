/**
 * Failure detection. Every node scans the cluster's rooms a few times a second for two kinds of
 * orphan: a room whose owner lease lapsed, and a room whose owner stopped beating and whose port
 * refuses connections (a process that is gone, not one that is merely slow). The first is safe by
 * the lease; the second because a refused connection means no process listens there, and it
 * saves waiting out the whole lease. A late heartbeat only triggers the probe, so clock skew
 * between machines can cost a probe, never a room. The rooms of a node that is late but still
 * accepts connections (frozen, cut off, or only slow) are scanned again the moment their leases
 * lapse, not at the next scan. Less loaded nodes try first.
 */
import { connect } from "node:net";
import type { Logger } from "pino";
import { LogOnce } from "../log-once.ts";
import { byLoad, type NodeRecord } from "./node-registry.ts";
import type { OwnershipView } from "./ownership.ts";
import type { ClaimMode } from "./redis-scripts.ts";

/** What the watch needs of the node's rooms: which it has, and a way to take one over. */
export interface OrphanTaker {
  owns(roomId: string): boolean;
  /** Resolves with whether the room runs here now. */
  rehydrate(roomId: string, mode: Exclude<ClaimMode, "new">, seenHeartbeat: number, lastAliveAt: number | undefined): Promise<boolean>;
}

export interface OrphanWatchOptions {
  readonly readNodes: () => Promise<NodeRecord[]>;
  readonly ownership: OwnershipView;
  readonly host: OrphanTaker;
  readonly nodeId: string;
  readonly scanMs: number;
  /** A node whose last heartbeat is older than this gets its port probed. */
  readonly suspectAfterMs: number;
  readonly isReady: () => boolean;
  /**
   * True while rooms without a lease are left alone: just after this node connected to Redis (at
   * its start, or back from an outage: reconnect-grace.ts), when a lapsed lease more likely belongs
   * to a live owner that has not renewed yet than to a dead one.
   */
  readonly holdOrphanClaims: () => boolean;
  readonly log: Logger;
}

/** Each rank down the load order waits this much longer before claiming, so claims spread out. */
const RANK_STAGGER_MS = 60;
const PROBE_TIMEOUT_MS = 300;
/** A lease's expiry is read from Redis, the scan timed here: a scan this much after it finds the key gone. */
const AFTER_LAPSE_MS = 5;

export class OrphanWatch {
  private readonly o: OrphanWatchOptions;
  /** Last record seen of every node, kept after it lapses: its address is what the probe needs. */
  private readonly lastSeen = new Map<string, NodeRecord>();
  private timer: NodeJS.Timeout | undefined;
  /** The scan due when the lease of a late node's room lapses, sooner than the next periodic one. */
  private lapseTimer: NodeJS.Timeout | undefined;
  private scanning = false;
  /** A room that fails to rebuild, or a scan that fails, the same way every time is logged once, not four times a second. */
  private readonly failures = new LogOnce();

  constructor(options: OrphanWatchOptions) {
    this.o = options;
  }

  start(): void {
    this.timer = setInterval(() => void this.scan(), this.o.scanMs);
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.lapseTimer);
    this.lapseTimer = undefined;
  }

  /** One pass over the cluster's rooms; also run at once when a gateway asks for a room no node holds. */
  async scan(): Promise<void> {
    if (this.scanning || !this.o.isReady()) return;
    this.scanning = true;
    try {
      await this.scanOnce();
    } catch (err) {
      // Redis away (already logged as such) or something in it no scan can read past: once per kind.
      if (this.failures.first(`scan: ${err instanceof Error ? err.message : String(err)}`)) this.o.log.warn({ event: "orphan_scan_failed", err }, "orphan scan failed; retrying quietly");
    } finally {
      this.scanning = false;
    }
  }

  /** Times a scan for the first of these leases to lapse, when that comes before the next periodic scan. */
  private async scanWhenLapsed(roomIds: readonly string[]): Promise<void> {
    const remaining = (await this.o.ownership.leaseRemainingMs(roomIds)).filter((ms) => ms >= 0);
    if (remaining.length === 0 || this.lapseTimer) return;
    const inMs = Math.min(...remaining) + AFTER_LAPSE_MS;
    if (inMs < this.o.scanMs) this.scanIn(inMs);
  }

  /** One scan in `ms`; one still running then (this one, waiting its turn to claim) is waited for. */
  private scanIn(ms: number): void {
    this.lapseTimer = setTimeout(() => {
      this.lapseTimer = undefined;
      if (this.scanning) this.scanIn(AFTER_LAPSE_MS);
      else void this.scan();
    }, ms);
  }

  private async scanOnce(): Promise<void> {
    const { ownership, host, nodeId } = this.o;
    const nodes = await this.o.readNodes();
    const alive = new Set<string>();
    for (const n of nodes) {
      this.lastSeen.set(n.nodeId, n);
      alive.add(n.nodeId);
    }
    const roomIds = (await ownership.liveRoomIds()).filter((id) => !host.owns(id));
    if (roomIds.length === 0) return;
    const owners = await ownership.ownersOf(roomIds);
    const now = Date.now();
    const holdOrphans = this.o.holdOrphanClaims();

    const orphans: { roomId: string; mode: "orphan" | "dead"; seenHeartbeat: number; lastAliveAt: number | undefined }[] = [];
    /** Rooms of late owners that still accept connections: they move when their leases lapse. */
    const lapsing: string[] = [];
    const probes = new Map<string, Promise<boolean>>();
    for (let i = 0; i < roomIds.length; i++) {
      const roomId = roomIds[i]!;
      const owner = owners[i];
      // No owner, or a lease that names none (the claim script reads it so too).
      if (owner === undefined) {
        if (!holdOrphans) orphans.push({ roomId, mode: "orphan", seenHeartbeat: 0, lastAliveAt: undefined });
        continue;
      }
      const ownerNode = owner.nodeId;
      const record = this.lastSeen.get(ownerNode);
      if (ownerNode === nodeId || !record) continue;
      const beating = alive.has(ownerNode) && now - record.heartbeatAt < this.o.suspectAfterMs;
      if (beating) continue;
      if (!probes.has(ownerNode)) probes.set(ownerNode, refusesConnections(record.address));
      if (await probes.get(ownerNode)) {
        orphans.push({ roomId, mode: "dead", seenHeartbeat: alive.has(ownerNode) ? record.heartbeatAt : 0, lastAliveAt: record.heartbeatAt });
      } else {
        lapsing.push(roomId);
      }
    }
    if (lapsing.length > 0) await this.scanWhenLapsed(lapsing);
    if (orphans.length === 0) return;

    const rank = loadRank(nodes, nodeId);
    if (rank > 0) await new Promise((r) => setTimeout(r, rank * RANK_STAGGER_MS));
    for (const o of orphans) {
      try {
        if (await host.rehydrate(o.roomId, o.mode, o.seenHeartbeat, o.lastAliveAt)) {
          this.o.log.info({ event: "room_taken_over", room: o.roomId, mode: o.mode }, "orphaned room taken over");
          this.failures.forget(o.roomId);
        }
      } catch (err) {
        if (this.failures.first(o.roomId)) this.o.log.error({ event: "rehydrate_failed", room: o.roomId, err }, "could not rehydrate an orphaned room; retrying quietly");
      }
    }
  }
}

/** This node's place in the load order of ready nodes (0 = least loaded). */
function loadRank(nodes: readonly NodeRecord[], nodeId: string): number {
  const ready = nodes.filter((n) => n.state === "ready").sort(byLoad);
  const i = ready.findIndex((n) => n.nodeId === nodeId);
  return i < 0 ? ready.length : i;
}

/** True only when the address actively refuses a TCP connection: nothing listens there any more. */
function refusesConnections(address: string): Promise<boolean> {
  const url = new URL(address);
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port || 80) });
    const done = (refused: boolean) => {
      socket.destroy();
      resolve(refused);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    socket.once("connect", () => done(false));
    socket.once("error", (err: NodeJS.ErrnoException) => done(err.code === "ECONNREFUSED"));
  });
}
