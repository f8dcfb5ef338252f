/**
 * The limits a public listener applies before anything else reads a request, shared by the node
 * and the gateway: sockets per client address and in total, declared body size, matchmaking
 * requests per address per second, and CORS preflights from origins not in ALLOWED_ORIGINS. Each
 * refusal gets a short answer its sender can read (HTTP 403, 413, 429 with `Retry-After`, 503)
 * and is counted and logged once per offender per window (refusal-log.ts). Addresses are the
 * resolved client's (`client-address.ts`), so limits hold behind a gateway.
 */
import { type IncomingMessage, type Server, type ServerOptions, type ServerResponse, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { JoinErrorCode } from "../../shared/protocol.ts";
import { CorsPolicy } from "../http/cors.ts";
import { limitKey, normalizeAddress, resolveClientAddress } from "./client-address.ts";
import type { EdgeSettings } from "./edge-settings.ts";
import type { RefusalLog, RefusalReason } from "./refusal-log.ts";
import { type SocketRefusal, SocketLimits } from "./socket-limits.ts";
import { TokenBuckets } from "./token-buckets.ts";

/** Node checks its header and request timeouts this often (its own default is every 30 s). */
const TIMEOUT_CHECK_MS = 1000;
/** A refused connection may send its request this long to be told why, then it is cut. */
const REFUSED_SOCKET_GRACE_MS = 1000;
/** Refused connections waiting to be told why at once; past this they are cut without a word. */
const MAX_REFUSED_WAITING = 100;
/** Addresses whose matchmaking rate is remembered at once (about 100 bytes each). */
const MAX_JOIN_BUCKETS = 100_000;
/**
 * A refused connection is closed this long after its answer, reading nothing more meanwhile: a
 * client still writing a body then reads the answer before the reset, and whatever more it sends
 * waits in the kernel's buffer, never in this process's memory.
 */
const LINGER_MS = 1000;

/** What a refused request or upgrade is told. */
export interface Refusal {
  readonly status: number;
  readonly message: string;
  readonly retryAfterSeconds?: number;
}

interface SocketState {
  readonly peer: string;
  /** Set when the connection was refused: it is answered with this and closed. */
  readonly refusal: Refusal | undefined;
}

export class Edge {
  readonly settings: EdgeSettings;
  readonly refusals: RefusalLog;
  /** Which origins' pages may call the API: the headers of every answer, and the preflights refused here. */
  readonly cors: CorsPolicy;
  private readonly limits: SocketLimits;
  private readonly joins: TokenBuckets;
  private readonly sockets = new WeakMap<Socket, SocketState>();
  /** The client address each admitted request or upgrade was resolved to. */
  private readonly clients = new WeakMap<IncomingMessage, string>();
  private refusedWaiting = 0;

  constructor(settings: EdgeSettings, refusals: RefusalLog) {
    this.settings = settings;
    this.refusals = refusals;
    this.cors = new CorsPolicy(settings.allowedOrigins);
    this.limits = new SocketLimits(settings.maxSockets, settings.maxSocketsPerIp);
    this.joins = new TokenBuckets(settings.joinsPerIpPerSecond, settings.joinBurstPerIp, MAX_JOIN_BUCKETS);
  }

  /** For `http.createServer`: Node's own timeouts cut a trickled request's headers or body. */
  get serverOptions(): ServerOptions {
    return { headersTimeout: this.settings.headersTimeoutMs, requestTimeout: this.settings.requestTimeoutMs, connectionsCheckingInterval: TIMEOUT_CHECK_MS };
  }

  /** Counts the server's connections from now on; call before it listens. */
  watch(server: Server): void {
    server.on("connection", (socket: Socket) => this.onConnection(socket));
  }

  /** Lets a request through, resolving its client's address, or answers it with a refusal and returns undefined. */
  admitRequest(req: IncomingMessage, res: ServerResponse): string | undefined {
    const state = this.sockets.get(req.socket);
    if (!state) {
      res.destroy();
      return undefined;
    }
    if (state.refusal) {
      refuseOnSocket(req.socket, state.refusal);
      return undefined;
    }
    const address = this.clientAddress(req, state.peer);
    if (this.cors.refusesPreflight(req.method, req.headers)) {
      // The offender is the page that made the browser ask, not the player whose browser it is.
      const origin = String(req.headers.origin).slice(0, 100);
      const refusal = { status: JoinErrorCode.ORIGIN_NOT_ALLOWED, message: `origin ${origin} may not call this API: it is not in ALLOWED_ORIGINS` };
      this.refusals.refused("cors_preflight", origin, refusal.message);
      answer(res, refusal);
      return undefined;
    }
    if (Number(req.headers["content-length"] ?? 0) > this.settings.maxBodyBytes) {
      this.refuseBody(req, address);
      return undefined;
    }
    if (req.method === "POST" && req.url?.startsWith("/matchmake/") && !this.admitJoin(address, res)) return undefined;
    this.clients.set(req, address);
    return address;
  }

  /**
   * Takes one of the address's matchmaking tokens (JOINS_PER_IP_PER_SECOND), or answers with 429
   * and returns false: for a matchmaking request, and for a gateway's room lookup, its equal.
   */
  admitJoin(address: string, res: ServerResponse): boolean {
    if (this.settings.limitExemptIps.has(address)) return true;
    const waitSeconds = this.joins.take(limitKey(address), performance.now());
    if (waitSeconds <= 0) return true;
    const { joinsPerIpPerSecond, joinBurstPerIp } = this.settings;
    const refusal = { status: JoinErrorCode.TOO_MANY_REQUESTS, message: `too many joins from ${address}: at most ${joinsPerIpPerSecond} a second after a burst of ${joinBurstPerIp}; retry in ${waitSeconds} s`, retryAfterSeconds: waitSeconds };
    this.refusals.refused("joins_per_ip", address, refusal.message);
    answer(res, refusal);
    return false;
  }

  /**
   * Lets a websocket upgrade through, resolving its client's address and counting the socket
   * against it when a trusted proxy opened it, or answers it before the handshake and returns undefined.
   */
  admitUpgrade(req: IncomingMessage, socket: Socket): string | undefined {
    const state = this.sockets.get(socket);
    if (!state) {
      socket.destroy();
      return undefined;
    }
    if (state.refusal) {
      refuseOnSocket(socket, state.refusal);
      return undefined;
    }
    const address = this.clientAddress(req, state.peer);
    // A direct client's socket was counted against it when accepted.
    if (this.settings.trustedProxies.has(state.peer) && !this.settings.limitExemptIps.has(address)) {
      const key = limitKey(address);
      const refused = this.limits.open(key, false);
      if (refused) {
        refuseOnSocket(socket, this.socketRefusal(refused, address));
        return undefined;
      }
      socket.once("close", () => this.limits.close(key, false));
    }
    this.clients.set(req, address);
    return address;
  }

  /** The client address an admitted request or upgrade was resolved to. */
  addressOf(req: IncomingMessage): string | undefined {
    return this.clients.get(req);
  }

  /** A body declared or grown past MAX_BODY_BYTES: 413, and the connection is closed. */
  refuseBody(req: IncomingMessage, address: string): void {
    const message = `request body over ${this.settings.maxBodyBytes} bytes`;
    this.refusals.refused("body_too_large", address, message);
    req.pause();
    refuseOnSocket(req.socket, { status: JoinErrorCode.BODY_TOO_LARGE, message });
  }

  /** Counts and logs a refusal decided elsewhere (a room, the gateway's holds). */
  refused(reason: RefusalReason, address: string, message: string): void {
    this.refusals.refused(reason, address, message);
  }

  /** The client behind a request (its socket's peer, or who a trusted proxy says it forwards). */
  clientAddress(req: IncomingMessage, peer: string): string {
    const forwarded = req.headers["x-forwarded-for"];
    return resolveClientAddress(peer, Array.isArray(forwarded) ? forwarded.join(",") : forwarded, this.settings.trustedProxies);
  }

  /** The socket's peer, normalized, as this edge recorded it when the connection came in. */
  peerOf(socket: Socket): string | undefined {
    return this.sockets.get(socket)?.peer;
  }

  private onConnection(socket: Socket): void {
    const peer = normalizeAddress(socket.remoteAddress ?? "");
    if (!peer) {
      socket.destroy();
      return;
    }
    const { trustedProxies, limitExemptIps } = this.settings;
    const key = trustedProxies.has(peer) || limitExemptIps.has(peer) ? undefined : limitKey(peer);
    const refused = this.limits.open(key, true);
    if (!refused) {
      this.sockets.set(socket, { peer, refusal: undefined });
      socket.once("close", () => this.limits.close(key, true));
      return;
    }
    const refusal = this.socketRefusal(refused, peer);
    if (this.refusedWaiting >= MAX_REFUSED_WAITING) {
      socket.destroy();
      return;
    }
    this.refusedWaiting++;
    this.sockets.set(socket, { peer, refusal });
    const timer = setTimeout(() => socket.destroy(), REFUSED_SOCKET_GRACE_MS);
    socket.once("close", () => {
      clearTimeout(timer);
      this.refusedWaiting--;
    });
  }

  private socketRefusal(reason: SocketRefusal, address: string): Refusal {
    const refusal =
      reason === "sockets_per_ip"
        ? { status: JoinErrorCode.TOO_MANY_REQUESTS, message: `too many connections from ${address}: at most ${this.settings.maxSocketsPerIp} at once` }
        : { status: JoinErrorCode.UNAVAILABLE, message: `the server holds its most connections (${this.settings.maxSockets}); try again shortly` };
    this.refusals.refused(reason, address, refusal.message);
    return refusal;
  }
}

/**
 * Answers a plain HTTP request with `{ code, error }`, the shape Colyseus's SDK reads a
 * matchmaking error from; the connection stays open for the client's next request.
 */
export function answer(res: ServerResponse, refusal: Refusal): void {
  const body = JSON.stringify({ code: refusal.status, error: refusal.message });
  res.writeHead(refusal.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...(refusal.retryAfterSeconds === undefined ? {} : { "retry-after": String(refusal.retryAfterSeconds) }),
  });
  res.end(body);
}

/**
 * Answers on the raw socket (a request whose connection is refused or whose body is too large, or
 * a websocket upgrade before any handshake) and closes the connection after LINGER_MS, reading
 * nothing more from it.
 */
export function refuseOnSocket(socket: Socket, refusal: Refusal): void {
  const body = JSON.stringify({ code: refusal.status, error: refusal.message });
  const retry = refusal.retryAfterSeconds === undefined ? "" : `Retry-After: ${refusal.retryAfterSeconds}\r\n`;
  socket.pause();
  socket.end(`HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? "Refused"}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${retry}\r\n${body}`);
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}
