/**
 * A lean bot: the same wire traffic as a player (matchmaking, the room socket, one input per
 * tick, reconnects after a drop) but it never decodes state: it only timestamps the frames. A full
 * SDK client costs more CPU than the server spends on it, so swarms that want to load a server,
 * and measurements that must not be skewed by their own bots, use these.
 */
import { decode } from "@colyseus/schema";
import { InputEncoder } from "@colyseus/schema/input";
import { CloseCode, PROTOCOL_CODE_MASK, Protocol, ProtocolModifier } from "@colyseus/shared-types";
import { WebSocket } from "ws";
import { DIRECT_DIAL_TIMEOUT_MS, ownerAddress, withOrigin } from "../client/lib/owner-address.ts";
import { jitteredRetryMs, MAX_RETRIES } from "../client/lib/reconnection.ts";
import { MoveInput } from "../shared/schema.ts";
import { honouringRetryAfter, retryAfterSeconds, TooManyJoins } from "./retry-after.ts";

/** How many sent inputs are remembered for matching acks against. */
const SENT_RING = 256;
/** Close codes after which a Colyseus SDK reconnects, and so does a lean bot. */
const DROP_CODES: ReadonlySet<number> = new Set([CloseCode.GOING_AWAY, CloseCode.NO_STATUS_RECEIVED, CloseCode.ABNORMAL_CLOSURE, CloseCode.MAY_TRY_RECONNECT]);
/** A matchmaking call or a socket that has not joined by then has failed, rather than hanging the swarm. */
const JOIN_TIMEOUT_MS = 10_000;
/** Inputs a late timer may send at once to catch up with the clock. */
const MAX_CATCH_UP = 3;
const PING_FRAME = Uint8Array.of(Protocol.PING);
/** A ping unanswered for this long is given up (the node may have dropped it over the socket's frame budget). */
const PING_GIVE_UP_MS = 5000;

export interface LeanBotOptions {
  /** The gateway or node, http://host:port. */
  readonly url: string;
  readonly name: string;
  readonly tickHz: number;
  /** Join this room rather than matchmaking into any arena with room. */
  readonly roomId?: string;
  /** Open the socket straight to the room's owner when the gateway names its address, and ask again before each reconnect, as the client library's `followRoom` does. */
  readonly followRoom?: boolean;
}

export class LeanBot {
  /** State frames received since the last `clearWindow()`. */
  stateFrames = 0;
  /** Milliseconds from sending each input to the first patch that acknowledged it, since the last `clearWindow()`. */
  readonly ackLatencies: number[] = [];
  /**
   * Round trips of Colyseus's PING, which the node echoes as soon as its loop reads it, since the
   * last `clearWindow()`: the path's latency and the node's loop delay, without an ack's wait for
   * the next tick (0 to a whole tick, by the bot's phase against its room's).
   */
  readonly pingLatencies: number[] = [];
  reconnects = 0;
  /** Set when the bot gave up: the close code that ended it. */
  leftWith: number | undefined;
  /** Codes of the warnings (Colyseus ERROR frames) the server sent it. */
  readonly warnings: number[] = [];
  bytesReceived = 0;
  /** For each drop of its socket, the milliseconds until it had state again. */
  readonly recoveries: number[] = [];
  readonly roomId: string;
  /** The socket's address through the gateway (or the node it was given). */
  private readonly socketUrl: string;
  /** The gateway to ask where the room is before each connect, when following the room. */
  private readonly follow: string | undefined;
  /** An owner (its origin) the last dial straight to failed: the next one goes through the gateway, as the client library's does. */
  private failedOwner: string | undefined;
  private readonly input = new MoveInput();
  private readonly encoder = new InputEncoder(this.input, { mode: "reliable" });
  private readonly frame = new Uint8Array(64);
  private token = "";
  private ws: WebSocket | undefined;
  private inputTimer: NodeJS.Timeout | undefined;
  private wanderTimer: NodeJS.Timeout | undefined;
  private retries = 0;
  private stopped = false;
  /** Inputs sent and acknowledged on the current connection: the server counts afresh on each. */
  private sent = 0;
  private acked = 0;
  private readonly sentAt = new Float64Array(SENT_RING);
  private readonly tickHz: number;
  /** Inputs are paced by the clock, as the SDK paces its fixed step, not by the timer: Node runs a 33.3 ms interval every 33 ms, and the surplus would queue up in the server. */
  private readonly pacedFrom = performance.now();
  private paced = 0;
  private lastStateAt = 0;
  private maxGap = 0;
  /** When its socket last dropped, while it waits for state again; 0 otherwise. */
  private downSince = 0;
  private pingTimer: NodeJS.Timeout | undefined;
  /** When the ping in flight was sent; 0 when none is. */
  private pingSentAt = 0;

  private constructor(socketUrl: string, roomId: string, tickHz: number, follow: string | undefined) {
    this.socketUrl = socketUrl;
    this.follow = follow;
    this.roomId = roomId;
    this.tickHz = tickHz;
    this.frame[0] = Protocol.ROOM_INPUT_RELIABLE;
    this.inputTimer = setInterval(() => this.sendDueInputs(), 1000 / tickHz);
  }

  /**
   * Matchmakes into any arena with room (or the given one) and connects; resolves once the server
   * has said JOIN_ROOM. A 429 is waited out as its Retry-After asks, a few times, before it fails.
   */
  static async join(options: LeanBotOptions): Promise<LeanBot> {
    const seat = await honouringRetryAfter(() => LeanBot.reserve(options));
    const base = options.url.replace(/^http/, "ws");
    const bot = new LeanBot(`${base}/${seat.processId}/${seat.roomId}?sessionId=${seat.sessionId}`, seat.roomId, options.tickHz, options.followRoom ? options.url : undefined);
    try {
      const url = await bot.whereNow();
      // A first dial straight to the owner that failed leaves the seat reserved there, which the gateway reaches.
      await bot.connect(url, JOIN_TIMEOUT_MS).catch((err: unknown) => (bot.isDirect(url) ? bot.connect(bot.socketUrl, JOIN_TIMEOUT_MS) : Promise.reject(err)));
    } catch (err) {
      bot.close();
      throw err;
    }
    return bot;
  }

  private static async reserve(options: LeanBotOptions): Promise<{ roomId: string; sessionId: string; processId?: string }> {
    const route = options.roomId === undefined ? "joinOrCreate/arena" : `joinById/${options.roomId}`;
    const res = await fetch(`${options.url}/matchmake/${route}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: options.name }),
      signal: AbortSignal.timeout(JOIN_TIMEOUT_MS),
    });
    const seat = (await res.json()) as { roomId?: string; sessionId?: string; processId?: string; error?: string; message?: string };
    if (res.ok && seat.roomId && seat.sessionId) return { roomId: seat.roomId, sessionId: seat.sessionId, processId: seat.processId };
    const message = `join refused (${res.status}): ${seat.message ?? seat.error ?? "no seat"}`;
    if (res.status === 429) throw new TooManyJoins(message, retryAfterSeconds(res.headers.get("retry-after")));
    throw new Error(message);
  }

  /** Steers the bot: the stick sent with every input from now on. */
  steer(x: number, y: number): void {
    this.input.x = x;
    this.input.y = y;
  }

  /** Starts a new measuring window: counts, latencies and the longest gap start again. */
  clearWindow(): void {
    this.stateFrames = 0;
    this.ackLatencies.length = 0;
    this.pingLatencies.length = 0;
    this.maxGap = 0;
  }

  /** Sends a PING every `ms` (one in flight at most) until `stopPinging()`, starting at a random moment of the first interval. */
  pingEvery(ms: number): void {
    this.stopPinging();
    this.pingTimer = setTimeout(() => {
      this.sendPing();
      this.pingTimer = setInterval(() => this.sendPing(), ms);
    }, Math.random() * ms);
  }

  stopPinging(): void {
    clearTimeout(this.pingTimer);
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  /**
   * The longest gap between two state frames that ended in this window, in milliseconds; a gap
   * that began in an earlier window counts whole. A gap still open counts as far as it has run,
   * unless the bot is gone for good: then it is no longer waiting for anything.
   */
  longestGap(): number {
    if (this.lastStateAt === 0) return 0;
    const open = this.leftWith === undefined && !this.stopped ? performance.now() - this.lastStateAt : 0;
    return Math.max(this.maxGap, open);
  }

  /** Walks at random as a player does: a new stick every half second to two seconds, until closed. */
  wander(): void {
    this.wanderTimer ??= setInterval(() => this.steer(Math.random() * 2 - 1, Math.random() * 2 - 1), 500 + Math.random() * 1500);
  }

  /** Cuts its socket as a failing load balancer would, without a close frame; it reconnects as after any drop. */
  cut(): void {
    this.downSince = performance.now();
    this.ws?.terminate();
  }

  close(): void {
    this.stopped = true;
    this.stopPinging();
    clearInterval(this.inputTimer);
    clearInterval(this.wanderTimer);
    this.ws?.close(4000);
  }

  /**
   * A first join gives up after `giveUpMs`; a reconnect waits as long as the SDK's does, since a
   * reconnect cut short on a slow server may have used up its seat there.
   */
  private connect(url: string, giveUpMs?: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const direct = this.isDirect(url);
      const handshakeMs = direct ? Math.min(giveUpMs ?? DIRECT_DIAL_TIMEOUT_MS, DIRECT_DIAL_TIMEOUT_MS) : giveUpMs;
      const ws = new WebSocket(url, handshakeMs === undefined ? {} : { handshakeTimeout: handshakeMs });
      ws.binaryType = "nodebuffer";
      this.ws = ws;
      let joined = false;
      const giveUp = giveUpMs === undefined ? undefined : setTimeout(() => ws.terminate(), giveUpMs);
      ws.on("message", (data: Buffer) => {
        this.bytesReceived += data.byteLength;
        const code = data[0]! & PROTOCOL_CODE_MASK;
        if (code === Protocol.ROOM_STATE || code === Protocol.ROOM_STATE_PATCH) {
          const now = performance.now();
          this.stateFrames++;
          if (this.lastStateAt > 0 && now - this.lastStateAt > this.maxGap) this.maxGap = now - this.lastStateAt;
          this.lastStateAt = now;
          if (this.downSince > 0) {
            this.recoveries.push(now - this.downSince);
            this.downSince = 0;
          }
          // A TIMED frame carries the server clock, then this client's input ack, before the state bytes.
          if (data[0]! & ProtocolModifier.TIMED && data.byteLength >= 9) this.acknowledge(data.readUInt32LE(5), now);
        } else if (code === Protocol.PING) {
          if (this.pingSentAt > 0) this.pingLatencies.push(performance.now() - this.pingSentAt);
          this.pingSentAt = 0;
        } else if (code === Protocol.JOIN_ROOM) {
          this.pingSentAt = 0;
          this.token = data.toString("utf8", 2, 2 + data[1]!);
          this.sent = 0;
          this.acked = 0;
          ws.send(Uint8Array.of(Protocol.JOIN_ROOM));
          joined = true;
          clearTimeout(giveUp);
          this.retries = 0;
          resolve();
        } else if (code === Protocol.ERROR) {
          this.warnings.push(decode.number(data, { offset: 1 }));
        }
      });
      ws.on("error", () => undefined);
      ws.on("close", (closeCode: number) => {
        clearTimeout(giveUp);
        if (!joined && direct) this.failedOwner = new URL(url).origin;
        if (!joined) reject(new Error(`socket closed (${closeCode}) before joining`));
        if (this.stopped) return;
        if (joined && this.downSince === 0) this.downSince = performance.now();
        if (DROP_CODES.has(closeCode) && this.token && this.retries < MAX_RETRIES) {
          this.retry();
        } else if (joined || this.retries > 0) {
          this.leftWith = closeCode;
          clearInterval(this.inputTimer);
        }
      });
    });
  }

  /** Reconnects as the game's client library does: the same URL (or the room's owner now) with the token, after the same jittered waits. */
  private retry(): void {
    setTimeout(() => {
      if (this.stopped) return;
      this.encoder.reset();
      void this.whereNow().then((url) => {
        if (this.stopped) return;
        this.connect(`${url}&reconnectionToken=${this.token}&skipHandshake=true`).then(
          () => this.reconnects++,
          () => undefined,
        );
      });
    }, jitteredRetryMs(++this.retries));
  }

  /**
   * The socket's address now: the owner's own when following the room and the gateway names one,
   * but through the gateway once after a dial straight to that owner failed.
   */
  private async whereNow(): Promise<string> {
    const owner = this.follow === undefined ? undefined : await ownerAddress(this.follow, this.roomId);
    if (owner === undefined) return this.socketUrl;
    const failed = this.failedOwner;
    this.failedOwner = undefined;
    return new URL(owner).origin === failed ? this.socketUrl : withOrigin(this.socketUrl, owner);
  }

  private isDirect(url: string): boolean {
    return new URL(url).origin !== new URL(this.socketUrl).origin;
  }

  /** Sends the inputs that fell due since the last call: one per fixed step of the real clock, as a player does. */
  private sendDueInputs(): void {
    const due = Math.floor(((performance.now() - this.pacedFrom) * this.tickHz) / 1000);
    // After a stall, catch up by at most a few steps rather than flood the server's input queue.
    if (due - this.paced > MAX_CATCH_UP) this.paced = due - MAX_CATCH_UP;
    for (; this.paced < due; this.paced++) this.sendInput();
  }

  private sendPing(): void {
    if (this.ws?.readyState !== WebSocket.OPEN || !this.token) return;
    const now = performance.now();
    if (this.pingSentAt > 0 && now - this.pingSentAt < PING_GIVE_UP_MS) return;
    this.pingSentAt = now;
    this.ws.send(PING_FRAME);
  }

  private sendInput(): void {
    if (this.ws?.readyState !== WebSocket.OPEN || !this.token) return;
    const body = this.encoder.encode();
    this.frame.set(body, 1);
    this.sentAt[++this.sent % SENT_RING] = performance.now();
    this.ws.send(this.frame.subarray(0, 1 + body.length));
  }

  private acknowledge(ack: number, now: number): void {
    for (let seq = Math.max(this.acked + 1, this.sent - SENT_RING + 1); seq <= ack && seq <= this.sent; seq++) {
      this.ackLatencies.push(now - this.sentAt[seq % SENT_RING]!);
    }
    if (ack > this.acked) this.acked = ack;
  }
}
