/**
 * A full bot: a player on the same headless client library as the browser game (prediction,
 * reconciliation, state decoding), wandering at random. Because it decodes state it can see what
 * lean bots cannot: when its room moves to another node, how many ticks of the room's history it
 * lost (the last tick the old node showed it, minus the tick the new node resumed at).
 */
import { type ArenaSession, joinArena } from "../client/lib/node.ts";
import { honouringRetryAfter, TooManyJoins } from "./retry-after.ts";

const JOIN_TIMEOUT_MS = 10_000;

export class FullBot {
  readonly session: ArenaSession;
  /** Reconnects that brought state back, counted at the first state after each, as its player sees it. */
  reconnects = 0;
  /** Set when the bot gave up: the close code that ended it. */
  leftWith: number | undefined;
  /** Ticks lost at each move of its room to another node. */
  readonly lostTicks: number[] = [];
  private nodeId = "";
  private lastTick = 0;
  private lastStateAt = 0;
  private maxGap = 0;
  /** The SDK has reconnected and the state it brings has not come yet. */
  private reconnecting = false;
  private readonly wander: NodeJS.Timeout;

  private constructor(session: ArenaSession) {
    this.session = session;
    const { room } = session;
    room.onStateChange((state) => {
      const now = performance.now();
      if (this.lastStateAt > 0 && now - this.lastStateAt > this.maxGap) this.maxGap = now - this.lastStateAt;
      this.lastStateAt = now;
      if (this.nodeId && state.nodeId !== this.nodeId) this.lostTicks.push(Math.max(0, this.lastTick - state.tick));
      this.nodeId = state.nodeId;
      this.lastTick = state.tick;
      // Counted here, with the move it may be, so a run that ends between the SDK's reconnect and
      // its state never counts a recovery the bot has not had.
      if (this.reconnecting) {
        this.reconnecting = false;
        this.reconnects++;
      }
    });
    room.onReconnect(() => (this.reconnecting = true));
    room.onLeave((code) => {
      this.leftWith = code;
    });
    session.run(60);
    this.wander = setInterval(() => {
      session.stick.x = Math.random() * 2 - 1;
      session.stick.y = Math.random() * 2 - 1;
    }, 500 + Math.random() * 1500);
  }

  /**
   * Joins through the game's client library; a join that hangs fails after JOIN_TIMEOUT_MS
   * instead. A 429 is waited out: the SDK drops the Retry-After header, so for a second, the least
   * any Retry-After asks.
   */
  static async join(url: string, name: string, followRoom = false): Promise<FullBot> {
    return honouringRetryAfter(() => FullBot.joinOnce(url, name, followRoom));
  }

  private static async joinOnce(url: string, name: string, followRoom: boolean): Promise<FullBot> {
    let timer: NodeJS.Timeout | undefined;
    const joining = joinArena({ url, name, followRoom }).catch((err: unknown) => {
      if ((err as { code?: unknown }).code === 429) throw new TooManyJoins((err as Error).message, 1);
      throw err;
    });
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`join timed out after ${JOIN_TIMEOUT_MS} ms`)), JOIN_TIMEOUT_MS);
    });
    try {
      return new FullBot(await Promise.race([joining, timedOut]));
    } catch (err) {
      // A join that lands after its deadline leaves at once rather than playing unseen.
      void joining.then((session) => session.leave(), () => undefined);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The longest time without state over the whole run; one still open counts as far as it has run, unless the bot has left. */
  longestGap(): number {
    if (this.lastStateAt === 0) return 0;
    return Math.max(this.maxGap, this.leftWith === undefined ? performance.now() - this.lastStateAt : 0);
  }

  close(): void {
    clearInterval(this.wander);
    void this.session.leave().catch(() => undefined);
  }
}
