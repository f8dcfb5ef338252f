/**
 * Every kind of bad input a client can send, each against a real node over real sockets: the
 * sender is clamped, warned or disconnected with a documented code, and a bystander in the same
 * room keeps playing. Floods and hostile frames under measurement are in hostile-frames.test.ts.
 */
import { Protocol } from "@colyseus/sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ArenaSession, joinArena } from "../client/lib/node.ts";
import { MAX_SPEED } from "../shared/constants.ts";
import { CloseCode, ErrorCode, MAX_MESSAGE_BYTES } from "../shared/protocol.ts";
import { type NodeProcess, startNodeProcess, waitFor } from "../loadtest/processes.ts";

let node: NodeProcess;
const sessions: ArenaSession[] = [];

beforeAll(async () => {
  node = await startNodeProcess();
});

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.leave().catch(() => undefined)));
});

afterAll(async () => {
  await node?.stop();
});

async function join(name: string): Promise<ArenaSession> {
  const session = await joinArena({ url: node.url, name });
  sessions.push(session);
  await waitFor(() => session.state?.players?.has(session.sessionId) === true, 5000, () => `${name} in its own state`);
  return session;
}

/** Records what the server says to a session: warnings and the close code. */
function listen(session: ArenaSession) {
  const heard = { errors: [] as { code: number; message: string }[], leftWith: undefined as number | undefined };
  session.room.onError((code, message) => heard.errors.push({ code, message: message ?? "" }));
  session.room.onLeave((code) => (heard.leftWith = code));
  return heard;
}

/** Proves a bystander still receives fresh state: the room tick advances past what it was. */
async function expectRoomAlive(bystander: ArenaSession): Promise<void> {
  const tick = bystander.state.tick;
  await waitFor(() => bystander.state.tick > tick + 5, 3000, () => "room tick advancing for the bystander");
  expect(bystander.room.connection.isOpen).toBe(true);
}

function rawSend(session: ArenaSession, bytes: number[] | Uint8Array): void {
  session.room.connection.send(Uint8Array.from(bytes));
}

describe("bad join options", () => {
  const cases: [string, unknown, string][] = [
    ["no name", {}, "name is required"],
    ["a number for a name", { name: 42 }, "name is required and must be a string"],
    ["an empty name", { name: "  " }, "1 to 16 printable characters"],
    ["a 17-character name", { name: "x".repeat(17) }, "1 to 16 printable characters"],
    ["a control character", { name: "bell\u0007" }, "1 to 16 printable characters"],
  ];
  for (const [what, options, message] of cases) {
    it(`refuses ${what} with HTTP 400 and a message`, async () => {
      const { Client } = await import("@colyseus/sdk");
      const error = await new Client(node.url).joinOrCreate("arena", options as object).then(
        () => undefined,
        (e: { code: number; message: string }) => e,
      );
      expect(error?.code).toBe(400);
      expect(error?.message).toContain(message);
    });
  }

  it("accepts a 16-character name with letters from any script", async () => {
    const session = await join("Zoë 李 Ωmega-16!");
    expect(session.me?.name).toBe("Zoë 李 Ωmega-16!");
  });
});

describe("bad input values", () => {
  it("treats NaN and Infinity as a centred stick and warns the sender", async () => {
    const bystander = await join("Bystander");
    const cheat = await join("Cheat");
    const heard = listen(cheat);
    await waitFor(() => bystander.state.players.has(cheat.sessionId), 3000, () => "the bystander sees Cheat");
    const start = { x: cheat.me!.x, y: cheat.me!.y };
    for (let i = 0; i < 20; i++) {
      cheat.input.data.x = Number.NaN;
      cheat.input.data.y = Number.POSITIVE_INFINITY;
      cheat.input.send();
      await new Promise((r) => setTimeout(r, 33));
    }
    await waitFor(() => heard.errors.some((e) => e.code === ErrorCode.INVALID_INPUT), 3000, () => "an INVALID_INPUT warning");
    const seen = bystander.state.players.get(cheat.sessionId)!;
    expect(Number.isFinite(seen.x) && Number.isFinite(seen.y)).toBe(true);
    expect(Math.hypot(seen.x - start.x, seen.y - start.y)).toBeLessThan(40);
    expect(heard.leftWith).toBeUndefined();
    await expectRoomAlive(bystander);
  });

  it("clamps out-of-range sticks to full speed, never faster", async () => {
    const bystander = await join("Bystander");
    const cheat = await join("Speedy");
    const heard = listen(cheat);
    await waitFor(() => bystander.state.players.has(cheat.sessionId), 3000, () => "the bystander sees Speedy");
    let fastest = 0;
    for (let i = 0; i < 30; i++) {
      cheat.input.data.x = 1000;
      cheat.input.data.y = 0;
      cheat.input.send();
      await new Promise((r) => setTimeout(r, 33));
      const p = bystander.state.players.get(cheat.sessionId)!;
      fastest = Math.max(fastest, Math.hypot(p.vx, p.vy));
    }
    expect(fastest).toBeGreaterThan(0);
    expect(fastest).toBeLessThanOrEqual(MAX_SPEED + 0.01);
    await waitFor(() => heard.errors.some((e) => e.code === ErrorCode.INVALID_INPUT && /clamped/.test(e.message)), 3000, () => "a clamp warning");
    await expectRoomAlive(bystander);
  });
});

describe("abuse", () => {
  it("warns about inputs faster than twice the tick rate, then disconnects the sender with 4429", async () => {
    const bystander = await join("Bystander");
    const flooder = await join("Flooder");
    const heard = listen(flooder);
    await waitFor(() => bystander.state.players.has(flooder.sessionId), 3000, () => "the bystander sees the flooder");
    // 100 inputs a second: over the room's 60 at 30 Hz, within the node's frame budget of 130.
    const flood = setInterval(() => {
      for (let i = 0; i < 5; i++) {
        flooder.input.data.x = 1;
        flooder.input.send();
      }
    }, 50);
    try {
      await waitFor(() => heard.errors.some((e) => e.code === ErrorCode.INPUT_FLOOD), 4000, () => "an INPUT_FLOOD warning");
      await waitFor(() => heard.leftWith !== undefined, 8000, () => "the flooder disconnected");
    } finally {
      clearInterval(flood);
    }
    expect(heard.leftWith).toBe(CloseCode.KICKED_INPUT_FLOOD);
    expect(heard.errors.some((e) => e.code === ErrorCode.FRAME_FLOOD)).toBe(false);
    await waitFor(() => !bystander.state.players.has(flooder.sessionId), 3000, () => "the flooder's seat released");
    await expectRoomAlive(bystander);
  });

  it("drops frames beyond the connection's budget, warns with 4430, and closes with 4430 within 2 s", async () => {
    const bystander = await join("Bystander");
    const flooder = await join("Torrent");
    const heard = listen(flooder);
    await waitFor(() => bystander.state.players.has(flooder.sessionId), 3000, () => "the bystander sees the flooder");
    const started = Date.now();
    const flood = setInterval(() => {
      for (let i = 0; i < 20; i++) flooder.input.send();
    }, 50);
    try {
      await waitFor(() => heard.leftWith !== undefined, 4000, () => "the flooder closed");
    } finally {
      clearInterval(flood);
    }
    expect(Date.now() - started).toBeLessThan(2000 + 200);
    expect(heard.errors.some((e) => e.code === ErrorCode.FRAME_FLOOD)).toBe(true);
    expect(heard.leftWith).toBe(CloseCode.FRAME_FLOOD);
    await waitFor(() => !bystander.state.players.has(flooder.sessionId), 3000, () => "the flooder's seat released at once");
    await expectRoomAlive(bystander);
  });

  it("closes at once with 4415 a client that sends a room message or request: the arena takes none", async () => {
    const bystander = await join("Bystander");
    const chatty = await join("Chatty");
    const asker = await join("Asker");
    const heard = [listen(chatty), listen(asker)];
    chatty.room.send("teleport", { x: 0, y: 0 });
    void asker.room.request("score").catch(() => undefined);
    await waitFor(() => heard.every((h) => h.leftWith !== undefined), 3000, () => "both closed");
    expect(heard.map((h) => h.leftWith)).toEqual([CloseCode.PROTOCOL_VIOLATION, CloseCode.PROTOCOL_VIOLATION]);
    await waitFor(() => !bystander.state.players.has(chatty.sessionId) && !bystander.state.players.has(asker.sessionId), 3000, () => "the seats released at once");
    await expectRoomAlive(bystander);
  });

  it("closes a socket that sends a frame over the size limit with 1009", async () => {
    const bystander = await join("Bystander");
    const big = await join("Big");
    const heard = listen(big);
    await waitFor(() => bystander.state.players.has(big.sessionId), 3000, () => "the bystander sees Big");
    rawSend(big, new Uint8Array(MAX_MESSAGE_BYTES + 1).fill(Protocol.ROOM_DATA));
    await waitFor(() => heard.leftWith !== undefined, 3000, () => "the oversized sender closed");
    expect(heard.leftWith).toBe(1009);
    // The server sees only an abnormal close here, as from a network failure, so it holds the seat.
    await waitFor(() => bystander.state.players.get(big.sessionId)?.connected === false, 3000, () => "the seat marked disconnected");
    await expectRoomAlive(bystander);
  });

  it("survives garbage input frames and unknown protocol bytes, closing the sender with 4415", async () => {
    const bystander = await join("Bystander");
    const fuzzer = await join("Fuzzer");
    const heard = listen(fuzzer);
    let seed = 7;
    for (let i = 0; i < 200; i++) {
      const frame = [i % 2 === 0 ? Protocol.ROOM_INPUT_RELIABLE : 200 + (i % 50)];
      for (let j = 0; j < 24; j++) {
        seed = (Math.imul(seed, 1103515245) + 12345) | 0;
        frame.push((seed >>> 16) & 0xff);
      }
      rawSend(fuzzer, frame);
    }
    await waitFor(() => heard.leftWith !== undefined, 3000, () => "the fuzzer closed");
    expect(heard.leftWith).toBe(CloseCode.PROTOCOL_VIOLATION);
    await expectRoomAlive(bystander);
    expect(bystander.state.players.has(fuzzer.sessionId)).toBe(false);
  });

  it("closes with 4415 a room message whose payload does not even decode, before decoding it", async () => {
    const bystander = await join("Bystander");
    const broken = await join("Broken");
    const heard = listen(broken);
    await waitFor(() => bystander.state.players.has(broken.sessionId), 3000, () => "the bystander sees Broken");
    // ROOM_DATA, a string type "x", then a msgpack length prefix promising bytes that never come.
    rawSend(broken, [Protocol.ROOM_DATA, 0xa1, 0x78, 0xdb, 0xff, 0xff, 0xff, 0xff]);
    await waitFor(() => heard.leftWith !== undefined, 3000, () => "the broken client closed");
    expect(heard.leftWith).toBe(CloseCode.PROTOCOL_VIOLATION);
    await waitFor(() => !bystander.state.players.has(broken.sessionId), 3000, () => "the seat released at once");
    await expectRoomAlive(bystander);
  });
});
