/**
 * The gate in front of Colyseus: every websocket frame a node receives passes it before any
 * Colyseus listener sees it. The node's sockets are a WebSocket subclass whose `emit` consults
 * the gate for each message, ping and pong: a frame over the connection's budget is dropped
 * unprocessed (the sender is warned, then closed with 4430 if it keeps on), and a frame outside
 * its room type's policy closes the socket at once with 4415. Websocket pings are answered only
 * within budget. Per frame this costs a clock read, a few arithmetic operations and a table
 * lookup, and allocates nothing.
 */
import type { IncomingMessage } from "node:http";
import { getMessageBytes, matchMaker, Protocol } from "@colyseus/core";
import type { WebSocketTransport } from "@colyseus/ws-transport";
import { WebSocket } from "ws";
import { CloseCode, ErrorCode } from "../../shared/protocol.ts";
import { socketServerOf } from "../colyseus-internals.ts";
import { roomOfSocketUrl, socketUrlOf } from "../socket-url.ts";
import type { NodeMetrics } from "../metrics.ts";
import type { RepeatLog } from "../repeat-log.ts";
import { Admission, FrameBudget } from "./frame-budget.ts";
import { checkFrame, type CompiledFramePolicy, compileFramePolicy, type FramePolicy, PROBE_POLICY, type Refusal } from "./frame-policy.ts";

export interface FrameGateDeps {
  /**
   * Each connection's budget: frames per second on average, with up to BURST_SECONDS of silence
   * saved up; a room type's policy may set a tighter one for its connections.
   */
  readonly maxFramesPerSecond: number;
  readonly metrics: NodeMetrics;
  /** Where refused and flooding connections are logged, once per client address and window. */
  readonly abuse: RepeatLog;
  /** The client address the public edge resolved for a socket's upgrade request (its peer may be a gateway). */
  readonly addressOf: (req: IncomingMessage) => string | undefined;
}

export interface FrameGate {
  /** Spread into the WebSocketTransport's options, which it hands to its ws server. */
  readonly transportOptions: { readonly WebSocket: typeof WebSocket; readonly autoPong: false; readonly maxFragments: number };
  /** Gives the sockets of a room type their frame policy; call it beside `server.define`. */
  define(roomName: string, policy: FramePolicy): void;
  /** Starts classifying the transport's new sockets by the room they ask for. */
  attach(transport: WebSocketTransport): void;
}

/**
 * How long a socket the gate closed stays connected, unread, so that the close frame reaches its
 * peer before the connection is cut.
 */
const CLOSE_GRACE_MS = 1000;
/**
 * Frames one message may be split into. An SDK sends each message whole; a long run of empty
 * continuation frames would otherwise cost parsing without ever making a message to count.
 */
const MAX_FRAGMENTS = 4;
const noop = () => undefined;

interface GatedSocket extends WebSocket {
  policy: CompiledFramePolicy;
  budget: FrameBudget;
  /** The code the gate closed the socket with; 0 while open. */
  closedWith: number;
  warned: boolean;
  /** When the last message frame passed the gate to Colyseus (performance.now()), -Infinity before any. */
  heardAt: number;
  /** For logs: who sent it, and what it asked for. */
  address: string;
  room: string;
  session: string;
}

/**
 * When a gated socket last had a message frame passed on to its room (performance.now()), for the
 * durable layer's "is this seat in use"; undefined for a socket the gate does not front.
 */
export function lastMessageAt(socket: unknown): number | undefined {
  const heardAt = (socket as Partial<GatedSocket> | undefined)?.heardAt;
  return typeof heardAt === "number" ? heardAt : undefined;
}

export function createFrameGate(deps: FrameGateDeps): FrameGate {
  const { metrics, abuse, maxFramesPerSecond } = deps;
  const policies = new Map<string, CompiledFramePolicy>();
  /** The FRAME_FLOOD warning for each budget in use, built once. */
  const warnings = new Map<number, Uint8Array>();
  const warningFor = (perSecond: number) => {
    let warning = warnings.get(perSecond);
    if (!warning) {
      warning = getMessageBytes[Protocol.ERROR](
        ErrorCode.FRAME_FLOOD,
        `more than ${perSecond} frames per second: frames beyond that are dropped, and a connection that keeps it up is closed`,
      );
      warnings.set(perSecond, warning);
    }
    return warning;
  };

  const close = (ws: GatedSocket, code: number, reason: string) => {
    ws.closedWith = code;
    ws.close(code, reason);
    // Reading on would parse whatever a flooder keeps sending until its close answer got through;
    // unread, its sending stalls on TCP's window and costs the node nothing.
    ws.pause();
    setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
  };

  const refuse = (ws: GatedSocket, reason: Refusal) => {
    metrics.framesRefused.inc({ reason });
    abuse.report({ event: "frame_refused", reason, offender: ws.address, room: ws.room, session: ws.session }, `protocol violation (${reason}) from ${ws.address}: socket closed`);
    close(ws, CloseCode.PROTOCOL_VIOLATION, `protocol violation: ${reason}`);
  };

  /** Spends one frame of the budget, arrived at `now`; false when the frame must be dropped. */
  const spend = (ws: GatedSocket, now: number): boolean => {
    if (ws.closedWith !== 0) return false;
    const admission = ws.budget.admit(now);
    if (admission === Admission.ACCEPT) return true;
    if (admission === Admission.WARN) {
      ws.send(warningFor(ws.budget.perSecond), noop);
      if (!ws.warned) abuse.report({ event: "frame_flood_warned", reason: "frame_flood", offender: ws.address, room: ws.room, session: ws.session, framesPerSecond: ws.budget.perSecond }, `connection from ${ws.address} over its frame budget: warned`);
      ws.warned = true;
    } else if (admission === Admission.CLOSE) {
      metrics.clientsKicked.inc({ reason: "frame_flood" });
      abuse.report({ event: "frame_flood_closed", reason: "frame_flood", offender: ws.address, room: ws.room, session: ws.session, dropped: ws.budget.dropped }, `connection from ${ws.address} stayed over its frame budget: closed`);
      close(ws, CloseCode.FRAME_FLOOD, "frame flood");
    }
    return false;
  };

  const passMessage = (ws: GatedSocket, data: Buffer, isBinary: boolean): boolean => {
    const now = performance.now();
    if (!spend(ws, now)) return false;
    const refusal = isBinary ? checkFrame(ws.policy, data) : "text_frame";
    if (refusal === undefined) {
      ws.heardAt = now;
      return true;
    }
    refuse(ws, refusal);
    return false;
  };

  class GatedWebSocket extends WebSocket implements GatedSocket {
    policy = PROBE_POLICY;
    budget = new FrameBudget(maxFramesPerSecond, performance.now());
    closedWith = 0;
    warned = false;
    heardAt = Number.NEGATIVE_INFINITY;
    address = "";
    room = "";
    session = "";

    // ws emits at most two arguments on a server socket; naming them avoids a rest array per frame.
    override emit(event: string | symbol, a?: unknown, b?: unknown): boolean {
      if (event === "message") {
        if (!passMessage(this, a as Buffer, b as boolean)) return false;
      } else if (event === "ping") {
        if (!spend(this, performance.now())) return false;
        this.pong(a as Buffer, false, noop);
      } else if (event === "pong") {
        if (!spend(this, performance.now())) return false;
      } else if (event === "close") {
        if (this.budget.dropped > 0) metrics.framesDropped.inc(this.budget.dropped);
        // The room hears why the gate closed the socket, whatever the peer answered (or 1006 if it did not).
        if (this.closedWith !== 0) return super.emit(event, this.closedWith, b);
      }
      return arguments.length > 2 ? super.emit(event, a, b) : arguments.length === 2 ? super.emit(event, a) : super.emit(event);
    }
  }

  const admit = (ws: GatedSocket, req: IncomingMessage) => {
    const url = socketUrlOf(req.url);
    const { roomId, probe } = url ? roomOfSocketUrl(url) : { roomId: undefined, probe: true };
    ws.address = deps.addressOf(req) ?? req.socket.remoteAddress ?? "";
    ws.room = roomId ?? "";
    ws.session = url?.searchParams.get("sessionId") ?? "";
    const roomName = probe || roomId === undefined ? undefined : matchMaker.getLocalRoomById(roomId)?.roomName;
    // A room this node does not have is refused by the transport; its socket may still ping meanwhile.
    ws.policy = (roomName === undefined ? undefined : policies.get(roomName)) ?? PROBE_POLICY;
    const { framesPerSecond } = ws.policy;
    if (framesPerSecond !== undefined && framesPerSecond < maxFramesPerSecond) ws.budget = new FrameBudget(framesPerSecond, performance.now());
  };

  return {
    transportOptions: { WebSocket: GatedWebSocket, autoPong: false, maxFragments: MAX_FRAGMENTS },
    define(roomName, policy) {
      policies.set(roomName, compileFramePolicy(policy));
    },
    attach(transport) {
      socketServerOf(transport).on("connection", (ws: GatedSocket, req: IncomingMessage) => admit(ws, req));
    },
  };
}
