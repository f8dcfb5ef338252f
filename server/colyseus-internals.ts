/**
 * Every place Locus reaches into Colyseus beyond its documented API: private fields and
 * undocumented behaviour, one small function each, with the version it was read from. A Colyseus
 * upgrade breaks here, in one place, or nowhere: colyseus-internals.test.ts pins each of them,
 * and fails when an upgrade moves one. The durable-room layer (server/durable) reaches Colyseus
 * through this module alone.
 */
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { type Client, ErrorCode, matchMaker, Protocol, type Room, ServerError } from "@colyseus/core";
import { $changes } from "@colyseus/schema";
import type { WebSocketTransport } from "@colyseus/ws-transport";
import type { WebSocketServer } from "ws";

/**
 * Read from @colyseus/core 0.18.17 (router/index.mjs `bindRouterToTransport`, router/node.mjs):
 * every HTTP answer, on every route and not only matchmaking, carries
 * `controller.DEFAULT_CORS_HEADERS` (`Access-Control-Allow-Origin: *` with credentials) overlaid
 * with `controller.getCorsHeaders(headers)` (which reflects any Origin). Emptying the defaults
 * leaves the CORS headers wholly to `headersFor`.
 */
export function setCorsHeaders(headersFor: (origin: string | null) => Readonly<Record<string, string>>): void {
  (matchMaker.controller as { DEFAULT_CORS_HEADERS: Record<string, string> }).DEFAULT_CORS_HEADERS = {};
  matchMaker.controller.getCorsHeaders = (headers: Headers) => ({ ...headersFor(headers.get("origin")) });
}

/**
 * The ws server a transport accepts sockets with. @colyseus/ws-transport 0.18.4 keeps it in the
 * protected `wss`, built with the transport's own options (so a `WebSocket` class given to the
 * transport is the class of every socket), and emits `connection` with each socket and its
 * upgrade request before any frame of that socket is read.
 */
export function socketServerOf(transport: WebSocketTransport): WebSocketServer {
  return (transport as unknown as { wss: WebSocketServer }).wss;
}

/** Six bits of field index on the wire. */
const SCHEMA_FIELD_SLOTS = 64;

/**
 * A schema class's fields by wire index, with their declared types. @colyseus/schema 5.0.34
 * keeps them in the class's `Symbol.metadata` as `{ [index]: { name, type, index } }`, and its
 * decoder reads a field's index from the low six bits of the byte that opens the field.
 */
export function schemaFieldTypes(schemaClass: abstract new (...args: any[]) => object): Map<number, unknown> {
  const metadataKey = (Symbol as unknown as { metadata: symbol }).metadata;
  const metadata = (schemaClass as unknown as Record<symbol, Record<number, { type: unknown } | undefined> | undefined>)[metadataKey] ?? {};
  const fields = new Map<number, unknown>();
  for (let index = 0; index < SCHEMA_FIELD_SLOTS; index++) {
    const field = metadata[index];
    if (field) fields.set(index, field.type);
  }
  return fields;
}

type Deferred = { then(onFulfilled: () => void, onRejected: () => void): unknown };

interface RoomInternals {
  /** Seats held for a reconnect, by the reconnection token that may take them: [sessionId, deferred]. */
  _reconnections: Record<string, [string, Deferred]>;
  /** Reserved seats by session id: [options, auth, consumed, waitingForReconnection]. */
  _reservedSeats: Record<string, [unknown, unknown, boolean, boolean]>;
  _onJoin(...args: unknown[]): Promise<void>;
  _reserveSeat(sessionId: string, joinOptions?: unknown, authData?: unknown, seconds?: number, allowReconnection?: boolean, ...rest: unknown[]): Promise<boolean>;
}

const internals = (room: Room) => room as unknown as RoomInternals;

/**
 * The session whose held seat `token` takes, if any. Read from @colyseus/core 0.18.17, Room.mjs
 * `checkReconnectionToken`, without its second half (which force-closes a live client holding the
 * token: Locus decides that itself).
 */
export function heldSeatFor(room: Room, token: string): string | undefined {
  const { _reconnections, _reservedSeats } = internals(room);
  if (!Object.hasOwn(_reconnections, token)) return undefined;
  const sessionId = _reconnections[token]![0];
  return Object.hasOwn(_reservedSeats, sessionId) && _reservedSeats[sessionId]![3] ? sessionId : undefined;
}

/**
 * Lets `token` take the seat held under `heldUnder`. Colyseus 0.18.17 finds a held seat only by
 * the token itself (`_reconnections[token]`, read by `hasReservedSeat` on the websocket path and
 * `checkReconnectionToken` on POST /matchmake/reconnect), and a room rebuilt from a checkpoint
 * knows only the token's hash: so the seat is held under a random key, and the token is added
 * beside it once it has been checked against the hash. The added entry goes with the seat (taken
 * or expired), so the token never replays.
 */
export function admitToHeldSeat(room: Room, heldUnder: string, token: string): void {
  const { _reconnections } = internals(room);
  if (!Object.hasOwn(_reconnections, heldUnder) || Object.hasOwn(_reconnections, token)) return;
  const entry = _reconnections[heldUnder]!;
  // defineProperty: a token spelt like an Object.prototype member must stay an own key.
  Object.defineProperty(_reconnections, token, { value: entry, writable: true, enumerable: true, configurable: true });
  const drop = () => {
    if (_reconnections[token] === entry) delete _reconnections[token];
  };
  entry[1].then(drop, drop);
}

/**
 * Passes what a websocket join or reconnect throws through `map` before Colyseus sends it to the
 * client. Read from 0.18.17: every join and reconnect runs `Room._onJoin`, and
 * `WebSocketTransport.onConnection` sends whatever it throws as an ERROR frame (code, message).
 */
export function mapJoinErrors(room: Room, map: (err: unknown) => unknown): void {
  const r = internals(room);
  const onJoin = r._onJoin.bind(room);
  r._onJoin = (...args) =>
    onJoin(...args).catch((err: unknown) => {
      throw map(err);
    });
}

export type MatchmakeCall = (method: string, roomName: string, options: unknown, auth: unknown) => Promise<unknown>;

/**
 * Runs every `POST /matchmake/:method/:roomName` through `handle`. Read from 0.18.17:
 * `matchMaker.controller.invokeMethod` serves each call (router/default_routes.mjs answers with
 * the status and `{ code, error }` of what it throws), and re-throws any exception as a
 * ServerError carrying the exception's own message; so it is replaced, not wrapped. `handle` gets
 * the original call, which checks the method against the exposed ones as before.
 */
export function routeMatchmaking(handle: (call: MatchmakeCall, method: string, roomName: string, options: unknown, auth: unknown) => Promise<unknown>): void {
  const { controller } = matchMaker;
  const call: MatchmakeCall = async (method, roomName, options, auth) => {
    if (!controller.exposedMethods.includes(method)) throw new ServerError(ErrorCode.MATCHMAKE_NO_HANDLER, `invalid method "${method}"`);
    const run = (matchMaker as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[method]!;
    return run(roomName, options, auth);
  };
  controller.invokeMethod = (method, roomName, options, auth) => handle(call, method, roomName, options, auth);
}

/**
 * Read from @colyseus/core 0.18.17, `Transport.mjs` `resolveClientIp`: an auth context's `ip` is
 * `X-Real-IP` when the request has one, before the first hop of `X-Forwarded-For` (which any
 * client can write) and the socket's address. Set to the address the edge resolved, `context.ip`
 * in `onAuth` is the real client's, on matchmaking requests and websocket upgrades alike.
 */
export function setAuthContextIp(headers: IncomingHttpHeaders, address: string): void {
  headers["x-real-ip"] = address;
}

/**
 * Read from @colyseus/better-call's node adapter `getRequest`, which @colyseus/core 0.18.17's
 * router uses for `/matchmake/*`: a request whose `body` property is set is not read from the
 * socket again (Colyseus's own `prereadRequestBodies` relies on it). The edge reads bodies itself,
 * under its size limit, and hands them over this way.
 */
export function handBodyToColyseus(req: IncomingMessage, body: string): void {
  (req as IncomingMessage & { body?: string }).body = body;
}

/**
 * Read from @colyseus/core 0.18.17, `Room.mjs`: `_reserveSeat(sessionId, joinOptions, authData,
 * seconds, allowReconnection)` is what the matchmaker calls (in process or over IPC) to reserve a
 * seat, and a `false` answer makes it refuse the join as "already full"; `_reservedSeats` holds
 * each reservation until its socket joins or it lapses. `refuse` sees the new seat's auth data and
 * that of every reservation not yet connected (seats held for a reconnect excluded), and says
 * whether to refuse it.
 */
export function guardSeatReservations(room: Room, refuse: (authData: unknown, pending: unknown[]) => boolean): void {
  const r = internals(room);
  const reserve = r._reserveSeat.bind(room);
  r._reserveSeat = (sessionId, joinOptions, authData, seconds, allowReconnection, ...rest) => {
    if (!allowReconnection) {
      const pending = Object.values(r._reservedSeats)
        .filter(([, , consumed, reconnection]) => !consumed && !reconnection)
        .map(([, auth]) => auth);
      if (refuse(authData, pending)) return Promise.resolve(false);
    }
    return reserve(sessionId, joinOptions, authData, seconds, allowReconnection, ...rest);
  };
}

/** What `room.inputs.get(sessionId)` returns; only its private link to the client's buffer is used here. */
interface InputAccessorInternals {
  readonly _client: { readonly _inputBuffer?: { consumedCount: number } };
}

/**
 * Moves the input acknowledgement a client's patches carry by `by` inputs, without consuming or
 * simulating anything. Read from @colyseus/core 0.18.17: on the reliable channel the TIMED patch
 * header's ack is `client._inputBuffer.consumedCount` (SchemaSerializer `clientProcessedInputSeq`
 * → InputBuffer `ackSeq`), a field the public accessor (`inputs.get(id).consumedCount`) only reads,
 * and which `next()` raises by one per input it hands out.
 */
export function shiftInputAck(inputs: unknown, by: number): void {
  const buffer = (inputs as InputAccessorInternals)._client._inputBuffer;
  if (buffer) buffer.consumedCount += by;
}

/**
 * Sends the room's patch stamped with `serverMs` as its server time. Read from @colyseus/core
 * 0.18.17: `Room.broadcastPatch` stamps every TIMED frame with `room.clock.elapsedTime` read as it
 * starts (the stamp the SDK's clock and interpolation are built on), and nothing else it does in
 * that call reads the clock; the clock is put back at once.
 */
export function broadcastPatchStampedAt(room: Room, serverMs: number): void {
  const clock = room.clock;
  const real = clock.elapsedTime;
  clock.elapsedTime = serverMs;
  try {
    room.broadcastPatch();
  } finally {
    clock.elapsedTime = real;
  }
}

/**
 * Drops the state changes no client has been sent, as a patch with no client in the room does.
 * Read from @colyseus/core 0.18.17, serializer/SchemaSerializer.mjs `applyPatches`: with no
 * clients it marks the full state for encoding afresh (`needFullEncode`) and empties the
 * encoder's change list (@colyseus/schema 5.0.34 `Encoder.discardChanges`); the next full state
 * then holds everything, and no later patch repeats it.
 */
export function discardUnsentChanges(room: Room): void {
  const serializer = (room as unknown as { _serializer: { needFullEncode: boolean; encoder: { discardChanges(): void } } })._serializer;
  serializer.needFullEncode = true;
  serializer.encoder.discardChanges();
}

/**
 * Makes disposing `room` leave its matchmaking listing alone, for the process that owns the room
 * id now. Read from @colyseus/core 0.18.17, Room.mjs: disposing removes the listing that
 * `_listing.roomId` names; MatchMaker.mjs `recordRoom` clears it the same way when another
 * process wins a room id.
 */
export function leaveListingToNewOwner(room: Room): void {
  (room as unknown as { _listing: { roomId: string | undefined } })._listing.roomId = undefined;
}

/**
 * The counter a room's state encoder numbers new schema objects from. @colyseus/schema 5.0.34
 * keeps it as `nextUniqueId` on the root of the state's `$changes`; a rebuilt room moves it past
 * every id the room's previous owner may have handed out.
 */
export function schemaRefIds(state: object): { nextUniqueId: number } {
  return (state as { [$changes]: { root: { nextUniqueId: number } } })[$changes].root;
}

/**
 * A stand-in for a client that never connected to this process, to hold its seat with
 * `allowReconnection`. Read from @colyseus/core 0.18.17, Room.mjs `allowReconnection`: it reads
 * only `sessionId` and `reconnectionToken` (the key the seat is held under) of the client it is
 * handed, and copies `auth`, `userData` and `view` onto the client that takes the seat.
 */
export function ghostClient(sessionId: string, heldUnder: string): Client {
  return { sessionId, reconnectionToken: heldUnder, auth: undefined, userData: undefined, view: undefined } as unknown as Client;
}

/**
 * Counts a client that took a seat held for a ghost. Read from @colyseus/core 0.18.17: the
 * matchmaker counts a client (`stats.local.ccu`) on its first join only, and a seat carried over
 * from another node never had one here.
 */
export function countCarriedOverClient(): void {
  matchMaker.stats.local.ccu++;
  void matchMaker.stats.persist();
}

/**
 * Creates a room of type `roomName` under `roomId` in this process, as a rebuild: read from
 * @colyseus/core 0.18.17, MatchMaker.mjs, `handleCreateRoom`'s fourth argument presets the new
 * room's id (its third restores a cached room, which Locus never does).
 */
export async function createRoomWithId(roomName: string, roomId: string): Promise<void> {
  await matchMaker.handleCreateRoom(roomName, {}, undefined, roomId);
}

/**
 * Calls `heard` for every frame a client's socket receives. Read from @colyseus/core 0.18.17 and
 * @colyseus/ws-transport 0.18.4: `client.ref` is the `ws` WebSocket, which emits `message` per frame.
 */
export function onEveryFrame(client: Client, heard: () => void): void {
  (client.ref as { on(event: "message", listener: () => void): void }).on("message", heard);
}

/**
 * Counts every byte sent to a client. Read from @colyseus/core 0.18.17: every frame a room sends
 * a client (state, patches, messages) goes through the client's `raw(data, options, cb)`.
 */
export function countBytesSent(client: Client, count: (bytes: number) => void): void {
  const raw = client.raw.bind(client);
  client.raw = (data, options, cb) => {
    count(data.byteLength);
    raw(data, options, cb);
  };
}

/**
 * Passes each client's full state through `send`, which may send it at once (`now`) or later.
 * Read from @colyseus/core 0.18.17, Room.mjs: the full state a client decodes from is sent by the
 * private `sendFullState(client)` once the client acknowledges its JOIN_ROOM, on a join and on a
 * reconnect alike, and nothing else calls it.
 */
export function routeFullStates(room: Room, send: (client: Client, now: () => void) => void): void {
  const r = room as unknown as { sendFullState(client: Client): void };
  const sendFullState = r.sendFullState.bind(room);
  r.sendFullState = (client) => send(client, () => sendFullState(client));
}

/** What a room's serializer is asked for on every patch (Room.broadcastPatch → `applyPatches`). */
interface PatchingSerializer {
  readonly hasFilters: boolean;
  needFullEncode: boolean;
  readonly encoder: { readonly hasChanges: boolean; readonly sharedBuffer: Uint8Array; encode(it: { offset: number }): Uint8Array; discardChanges(): void };
  applyPatches(clients: readonly Client[], state: unknown, timing: { readonly sNow: number } | undefined): boolean;
}

/**
 * Hands every TIMED patch of `room` to `send` with its body encoded once: `body` is the frame
 * without its TIMED prefix, `[ROOM_STATE_PATCH][schema changes]`, or `[ROOM_STATE_PATCH]` alone
 * when nothing changed (the heartbeat that carries each client's ack), valid only during the call;
 * `send` writes each joined client its `[code | TIMED][uint32 sNow][uint32 ack][changes]`.
 * Read from @colyseus/core 0.18.17, serializer/SchemaSerializer.mjs `applyPatches`: a room with
 * inputs passes `timing` (`{ sNow }`); without clients it drops the changes (left to Colyseus
 * here); with changes it marks the full state stale, encodes them once after the code byte in the
 * encoder's shared buffer, sends, and discards them; without changes and with no filters it sends
 * each JOINED client the heartbeat. Patches without timing, and rooms with filtered views, keep
 * Colyseus's own path.
 */
export function routeTimedPatches(room: Room, send: (clients: readonly Client[], body: Uint8Array, sNow: number) => void): void {
  const serializer = (room as unknown as { _serializer: PatchingSerializer })._serializer;
  const applyPatches = serializer.applyPatches.bind(serializer);
  serializer.applyPatches = (clients, state, timing) => {
    if (timing === undefined || serializer.hasFilters || clients.length === 0) return applyPatches(clients, state, timing);
    const { encoder } = serializer;
    if (!encoder.hasChanges) {
      send(clients, HEARTBEAT_BODY, timing.sNow);
      return false;
    }
    serializer.needFullEncode = true;
    encoder.sharedBuffer[0] = Protocol.ROOM_STATE_PATCH;
    send(clients, encoder.encode({ offset: 1 }), timing.sNow);
    encoder.discardChanges();
    return true;
  };
}
const HEARTBEAT_BODY = Uint8Array.of(Protocol.ROOM_STATE_PATCH);

/**
 * The input ack a client's TIMED patches carry. Read from @colyseus/core 0.18.17,
 * SchemaSerializer.mjs `clientProcessedInputSeq`: `client._inputBuffer?.ackSeq ?? 0`.
 */
export function inputAckOf(client: Client): number {
  return (client as unknown as { _inputBuffer?: { readonly ackSeq: number } })._inputBuffer?.ackSeq ?? 0;
}

/** The parts of a ws 8.23 WebSocket that say whether a whole frame may be written past its Sender. */
interface WsInternals {
  readonly readyState: number;
  readonly _socket: Socket | null;
  readonly _extensions: Record<string, unknown>;
  readonly _sender: { readonly _state: number; readonly _queue: readonly unknown[]; readonly _firstFragment: boolean } | undefined;
}
const WS_OPEN = 1;
/** ws 8.23 lib/sender.js: the Sender's state while nothing waits to be compressed or read from a Blob. */
const WS_SENDER_IDLE = 0;

/**
 * The TCP socket under a client's websocket when a complete frame written to it now lands exactly
 * where `ws.send` would put it, undefined otherwise. Read from ws 8.23 (lib/websocket.js,
 * lib/sender.js): the socket is `_socket`; a Sender with no permessage-deflate, in its idle state
 * with an empty queue and not inside a fragmented message, writes each frame to the socket at once
 * (`sendFrame`), an unmasked server frame being its header then the payload. Colyseus's
 * WebSocketClient keeps the ws socket as `client.ref` (@colyseus/ws-transport 0.18.4).
 */
export function frameSocketOf(client: Client): Socket | undefined {
  const ws = client.ref as unknown as WsInternals;
  const sender = ws._sender;
  if (ws.readyState !== WS_OPEN || !ws._socket || !sender || sender._state !== WS_SENDER_IDLE || sender._queue.length > 0 || !sender._firstFragment) return undefined;
  // The one extension ws negotiates; Colyseus's transport leaves it off.
  if (ws._extensions["permessage-deflate"] !== undefined) return undefined;
  return ws._socket;
}

/**
 * Makes the copies Colyseus buffers of a client's decoded inputs come from `ring`, reused in turn,
 * rather than a new schema instance each (a change tree and its arrays, per input, per player):
 * `copy` fills a ring slot from the decoded input. Read from @colyseus/core 0.18.17,
 * input/RoomInput.mjs `capture`: each decoded input, sanitized in place in the client's one
 * decoded instance (`latest`), is buffered as `inst.clone()`, and the buffer holds at most its
 * `bufferMaxSize` copies (one more while it drops the oldest), each handed out once. So a ring
 * longer than the buffer by two never reuses a copy the buffer still holds, nor the one a step
 * is running on; the room must not keep a copy past its step.
 */
export function recycleInputCopies<T extends object>(latest: T, ring: readonly T[], copy: (from: T, to: T) => void): void {
  let next = 0;
  Object.defineProperty(latest, "clone", {
    value: () => {
      const slot = ring[next]!;
      next = (next + 1) % ring.length;
      copy(latest, slot);
      return slot;
    },
    configurable: true,
  });
}
