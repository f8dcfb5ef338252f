/**
 * Which room and node each socket HAProxy relays leads to, so that the gateway can cut the ones
 * still leading to a room's old owner when the room moves, as it cuts its own relays. HAProxy
 * knows a session by the client's address and port; the gateway learns both when it routes the
 * upgrade, and finds the session's id for `shutdown session` in `show sess` when it must cut.
 * HAProxy does not say when a socket closes: sessions that `show sess` no longer lists are
 * forgotten whenever it is read, and at least every PRUNE_MS while any are remembered.
 */
import type { HaproxyRuntime } from "./haproxy.ts";

interface Routed {
  readonly roomId: string;
  readonly nodeId: string;
  readonly at: number;
}

const PRUNE_MS = 10_000;
/** A socket just routed may not be listed yet: HAProxy is still connecting it to the owner. */
const LISTED_WITHIN_MS = 2000;

export class HaproxySessions {
  private readonly runtime: HaproxyRuntime;
  /** Sockets routed and not yet seen gone, by the client's `address:port`. */
  private readonly bySource = new Map<string, Routed>();
  private timer: NodeJS.Timeout | undefined;

  constructor(runtime: HaproxyRuntime) {
    this.runtime = runtime;
  }

  /** An upgrade from `source` was sent to the room's owner. A port reused by a new socket replaces the old entry. */
  routed(source: string, roomId: string, nodeId: string): void {
    this.bySource.set(source, { roomId, nodeId, at: Date.now() });
    this.timer ??= setInterval(() => void this.prune().catch(() => undefined), PRUNE_MS);
  }

  /** The room now lives on `nodeId`: cuts the sockets that lead to any other node. */
  async cut(roomId: string, nodeId: string): Promise<number> {
    let stale = false;
    for (const r of this.bySource.values()) if (r.roomId === roomId && r.nodeId !== nodeId) stale = true;
    if (!stale) return 0;
    const sessions = await this.prune();
    const cuts = sessions.filter((s) => {
      const r = this.bySource.get(s.src);
      return r !== undefined && r.roomId === roomId && r.nodeId !== nodeId;
    });
    await Promise.all(cuts.map((s) => this.runtime.shutdownSession(s.id)));
    return cuts.length;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Forgets the sockets HAProxy no longer relays; returns those it does. */
  private async prune() {
    const sessions = await this.runtime.roomSessions();
    const live = new Set(sessions.map((s) => s.src));
    const young = Date.now() - LISTED_WITHIN_MS;
    for (const [source, r] of this.bySource) if (!live.has(source) && r.at < young) this.bySource.delete(source);
    if (this.bySource.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    return sessions;
  }
}
