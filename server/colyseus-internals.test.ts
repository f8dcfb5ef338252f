/**
 * Pins every Colyseus internal colyseus-internals.ts reaches: the versions it was read from, the
 * private fields and methods it touches (on real objects where one can be made here), and the
 * lines of Colyseus's own code whose behaviour it relies on. A Colyseus upgrade that moves any of
 * them fails here, naming it, instead of breaking a room quietly.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { type Client, matchMaker, Room, SchemaSerializer } from "@colyseus/core";
import { Encoder, schema, t } from "@colyseus/schema";
import { WebSocketTransport } from "@colyseus/ws-transport";
import { describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { discardUnsentChanges, ghostClient, recycleInputCopies, schemaRefIds, socketServerOf } from "./colyseus-internals.ts";

const require = createRequire(import.meta.url);
/** The package's own folder: its entry point's, up to the folder named as the package is. */
const packageDir = (name: string) => {
  let dir = dirname(require.resolve(name));
  while (!dir.endsWith(join("node_modules", name))) dir = dirname(dir);
  return dir;
};
const source = (name: string, file: string) => readFileSync(join(packageDir(name), name === "ws" ? "lib" : "build", file), "utf8");
/** Whitespace-insensitive: a reformatted build is not a moved internal. */
const squash = (text: string) => text.replace(/\s+/g, " ");
const expectCode = (name: string, file: string, snippets: string[]) => {
  const code = squash(source(name, file));
  for (const snippet of snippets) expect(code, `${name} build/${file} no longer has: ${snippet}`).toContain(squash(snippet));
};

describe("Colyseus internals colyseus-internals.ts relies on", () => {
  it("were read from these versions: after an upgrade, re-read each function there and move these pins", () => {
    const version = (name: string) => (JSON.parse(readFileSync(join(packageDir(name), "package.json"), "utf8")) as { version: string }).version;
    expect(version("@colyseus/core")).toBe("0.18.17");
    expect(version("@colyseus/schema")).toBe("5.0.34");
    expect(version("@colyseus/ws-transport")).toBe("0.18.4");
    expect(version("ws")).toBe("8.23.0");
  });

  it("Room keeps held seats, reservations and the join and reserve steps where the adapter reaches them", () => {
    const room = new Room() as unknown as Record<string, unknown>;
    expect(room._reconnections).toEqual({});
    expect(room._reservedSeats).toEqual({});
    for (const method of ["_onJoin", "_reserveSeat", "sendFullState", "broadcastPatch", "checkReconnectionToken", "allowReconnection"]) {
      expect(typeof room[method], method).toBe("function");
    }
    expectCode("@colyseus/core", "Room.mjs", [
      // heldSeatFor, admitToHeldSeat: a held seat is found by its token, and its reservation's fourth field marks it held.
      "const sessionId = this._reconnections[reconnectionToken]?.[0];",
      "this._reconnections[reconnectionToken] = [sessionId, reconnection];",
      "const [joinOptions, authData, isConsumed, isWaitingReconnection] = this._reservedSeats[sessionId];",
      // ghostClient: allowReconnection reads only these of the client it is handed.
      "const sessionId = previousClient.sessionId; const reconnectionToken = previousClient.reconnectionToken;",
      "newClient.auth = previousClient.auth; newClient.userData = previousClient.userData; newClient.view = previousClient.view;",
      // guardSeatReservations
      "this._reserveSeat(sessionId, true, previousClient.auth, seconds, true);",
      // routeFullStates: the full state goes out when the client acknowledges its join.
      "client._joinedAt = this.clock.elapsedTime; if (this.state) { this.sendFullState(client); }",
      // broadcastPatchStampedAt: the patch's server time is the clock read as it starts.
      "const sNow = this.clock.elapsedTime; const hasChanges = this._serializer.applyPatches(",
      // leaveListingToNewOwner
      "if (this._listing?.roomId !== void 0) { await matchMaker.driver.remove(this._listing.roomId);",
    ]);
  });

  it("the ghost client carries what allowReconnection reads", () => {
    const ghost = ghostClient("sess1", "held1") as Client & { view: unknown };
    expect(ghost.sessionId).toBe("sess1");
    expect(ghost.reconnectionToken).toBe("held1");
  });

  it("the matchmaker exposes the counters, create call and controller hooks the adapter uses", () => {
    expect(typeof matchMaker.stats.local.ccu).toBe("number");
    expect(typeof matchMaker.stats.persist).toBe("function");
    expect(typeof matchMaker.handleCreateRoom).toBe("function");
    const controller = matchMaker.controller as unknown as Record<string, unknown>;
    expect(typeof controller.DEFAULT_CORS_HEADERS).toBe("object");
    expect(typeof controller.getCorsHeaders).toBe("function");
    expect(typeof controller.invokeMethod).toBe("function");
    expect(Array.isArray(controller.exposedMethods)).toBe(true);
    expectCode("@colyseus/core", "MatchMaker.mjs", [
      "async function handleCreateRoom(roomName, clientOptions, restoringRoomId, presetRoomId) {",
      "room.roomId = presetRoomId || generateId();",
    ]);
    expectCode("@colyseus/core", "Transport.mjs", ['return firstHop("x-real-ip") ?? firstHop("x-forwarded-for")']);
  });

  it("an input accessor reaches the client's buffer, whose consumed count is the ack patches carry", () => {
    expectCode("@colyseus/core", "input/InputBuffer.mjs", ["return this._client._inputBuffer?.next(opts);", "consumedCount"]);
  });

  it("the schema encoder numbers new refs from nextUniqueId on its root", () => {
    const Tiny = schema({ n: t.number() }, "Tiny");
    const state = new Tiny();
    new Encoder(state);
    expect(typeof schemaRefIds(state).nextUniqueId).toBe("number");
    expect(schemaRefIds(state).nextUniqueId).toBeGreaterThan(0);
  });

  it("a patch with no client drops the encoder's changes and marks the full state stale, as discardUnsentChanges does", () => {
    expectCode("@colyseus/core", "serializer/SchemaSerializer.mjs", [
      "if (numClients === 0) { if (this.encoder.hasChanges) { this.needFullEncode = true; } this.encoder.discardChanges(); return false; }",
      "if (this.needFullEncode || this.encoder.root.changes.next !== void 0) {",
    ]);
    expectCode("@colyseus/core", "Room.mjs", ["this.setSerializer(new SchemaSerializer());", "this._serializer = serializer;"]);
    const Tiny = schema({ n: t.number() }, "TinyDiscard");
    const state = new Tiny();
    const serializer = new SchemaSerializer() as unknown as { needFullEncode: boolean; encoder: { hasChanges: boolean }; reset(state: object): void };
    serializer.reset(state);
    const room = { _serializer: serializer } as unknown as Room;
    state.n = 3;
    expect(serializer.encoder.hasChanges).toBe(true);
    serializer.needFullEncode = false;
    discardUnsentChanges(room);
    expect(serializer.encoder.hasChanges).toBe(false);
    expect(serializer.needFullEncode).toBe(true);
  });

  it("a TIMED patch is encoded once and framed per client with its ack, as routeTimedPatches and inputAckOf read it", () => {
    expectCode("@colyseus/core", "serializer/SchemaSerializer.mjs", [
      "function clientProcessedInputSeq(client) { return client._inputBuffer?.ackSeq ?? 0; }",
      "out[0] = encodedBody[0] | ProtocolModifier.TIMED; const it = { offset: 1 }; encode.uint32(out, sNow >>> 0, it); encode.uint32(out, inputSeq >>> 0, it); out.set(schemaPayload, it.offset);",
      "if (timing) { const heartbeatBody = Buffer.from([Protocol.ROOM_STATE_PATCH]); for (let i = 0; i < clients.length; i++) { const client = clients[i]; if (client.state !== ClientState.JOINED) continue; sendClientFrame(client, heartbeatBody, timing); } } return false;",
      "this.needFullEncode = true; if (debugPatch.enabled) {",
      "const it = { offset: 1 }; this.encoder.sharedBuffer[0] = Protocol.ROOM_STATE_PATCH; const encodedChanges = this.encoder.encode(it); if (!this.hasFilters) {",
      "sendClientFrame(client, encodedChanges, timing); } } else {",
      "this.encoder.discardChanges(); if (debugPatch.enabled) {",
    ]);
    expectCode("@colyseus/core", "Room.mjs", ["this._inputController !== void 0 ? { sNow } : void 0"]);
  });

  it("ws writes an idle sender's frame to its socket at once, header then payload", () => {
    expectCode("ws", "sender.js", [
      "const DEFAULT = 0;",
      "this._firstFragment = true; this._compress = false; this._bufferedBytes = 0; this._queue = []; this._state = DEFAULT;",
      "} else if (this._state !== DEFAULT) { this.enqueue([this.dispatch, data, this._compress, opts, cb]); } else { this.dispatch(data, this._compress, opts, cb); }",
      "if (!options.mask) { return dataLength ? [target, data] : [target]; }",
      "sendFrame(list, cb) { if (list.length === 2) { this._socket.cork(); this._socket.write(list[0]); this._socket.write(list[1], cb); this._socket.uncork();",
    ]);
    expectCode("ws", "websocket.js", ["this._sender = sender; this._socket = socket;", "if (!this._extensions[PerMessageDeflate.extensionName]) { opts.compress = false; }"]);
    expectCode("@colyseus/ws-transport", "WebSocketClient.mjs", ["raw(data, options, cb) { this.ref.send(data, SEND_OPTS, cb); }"]);
  });

  it("each buffered input is a clone of the client's one decoded instance, as recycleInputCopies reads it", () => {
    expectCode("@colyseus/core", "input/RoomInput.mjs", [
      "this.options.sanitize?.(client._input); const buf = client._inputBuffer;",
      "buf.push(inst.clone(), renderTime, reckonTime, seq);",
      "client._input = new this.options.ctor();",
    ]);
    expectCode("@colyseus/core", "input/InputBuffer.mjs", ["this._items.push(snapshot);", "if (this.size > this._maxSize) {"]);
    const latest = { x: 1, clone: () => ({ x: -1 }) };
    const ring = [{ x: 0 }, { x: 0 }];
    recycleInputCopies(latest, ring, (from, to) => (to.x = from.x));
    expect(latest.clone()).toBe(ring[0]);
    latest.x = 2;
    expect(latest.clone()).toBe(ring[1]);
    latest.x = 3;
    expect(latest.clone()).toBe(ring[0]);
    expect(ring.map((r) => r.x)).toEqual([3, 2]);
  });

  it("the websocket transport keeps its ws server in wss", () => {
    const transport = new WebSocketTransport({ noServer: true } as ConstructorParameters<typeof WebSocketTransport>[0]);
    expect(socketServerOf(transport)).toBeInstanceOf(WebSocketServer);
    expectCode("@colyseus/ws-transport", "WebSocketTransport.mjs", ['this.wss.on("connection", this.onConnection);']);
  });
});
