/**
 * A hostile client in a process of its own, so that its sending never starves the test process,
 * where the honest players are measured. It joins the given room from its own loopback address
 * (127.0.0.2 by default), as a player would, then attacks over that seat's socket:
 *
 * - `frame`: sends one hostile frame (given as bytes) and waits for what the node does;
 * - `ping`: floods Colyseus PING frames (protocol byte 0x12) as fast as the socket takes them;
 * - `control-ping`: floods websocket control-frame pings (opcode 0x9) as fast as the socket takes them.
 *
 * A flooder that gets closed joins again and goes on until `seconds` have passed, as a real one
 * would. It reports every connection: when it was warned and closed, and with which code.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { request } from "node:http";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";

export interface AttackOptions {
  /** The node or gateway, http://host:port. */
  readonly url: string;
  readonly roomId: string;
  readonly mode: "frame" | "ping" | "control-ping";
  /** `frame` mode: the frame to send. */
  readonly frame?: readonly number[];
  /** Flood modes: how long to keep at it, joining again after each close. */
  readonly seconds?: number;
  readonly localAddress?: string;
}

export interface AttackConnection {
  /** Milliseconds from the attack's start on this connection to the first warning (FRAME_FLOOD), if any. */
  readonly warnedAfterMs: number | undefined;
  /** Milliseconds from the attack's start on this connection to its close by the node, if the node closed it. */
  readonly closedAfterMs: number | undefined;
  readonly closeCode: number | undefined;
  /** Milliseconds from the attack's start on this connection to its end, by the node or because the attack's time ran out. */
  readonly endedAfterMs: number;
  /** Bytes the attacker got written to the socket. */
  readonly bytesWritten: number;
}

export interface AttackReport {
  readonly connections: AttackConnection[];
}

const ERROR = 11;
const JOIN_ROOM = 10;
/** A masked binary frame carrying the one byte 0x12 (PING), with an all-zero masking key. */
const PING_FRAME = [0x82, 0x81, 0, 0, 0, 0, 0x12];
/** A masked, empty websocket ping control frame. */
const CONTROL_PING_FRAME = [0x89, 0x80, 0, 0, 0, 0];
/** How long a `frame` attack waits for the node to answer it. */
const FRAME_WAIT_MS = 3000;

/** Runs an attack in a child process; resolves with its report once it is over. */
export function attack(options: AttackOptions): { readonly child: ChildProcess; readonly report: Promise<AttackReport> } {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), JSON.stringify(options)], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const report = new Promise<AttackReport>((resolve, reject) => {
    child.once("exit", (code) => {
      if (code === 0) resolve(JSON.parse(out) as AttackReport);
      else reject(new Error(`attacker exited with ${code}:\n${err}`));
    });
  });
  return { child, report };
}

async function main(options: AttackOptions): Promise<AttackReport> {
  const connections: AttackConnection[] = [];
  const until = Date.now() + (options.seconds ?? 0) * 1000;
  do {
    connections.push(await attackOnce(options, until));
  } while (options.mode !== "frame" && Date.now() < until);
  return { connections };
}

async function attackOnce(options: AttackOptions, until: number): Promise<AttackConnection> {
  const localAddress = options.localAddress ?? "127.0.0.2";
  const seat = await joinRoom(options.url, options.roomId, localAddress);
  const ws = new WebSocket(`${options.url.replace(/^http/, "ws")}/${seat.processId}/${seat.roomId}?sessionId=${seat.sessionId}`, { localAddress });
  let startedAt = 0;
  let warnedAfterMs: number | undefined;
  let closed: { afterMs: number; code: number } | undefined;
  let stopping = false;
  let bytesWritten = 0;
  const joined = new Promise<void>((resolve, reject) => {
    ws.once("close", (code: number) => reject(new Error(`closed with ${code} before joining`)));
    ws.on("message", (data: Buffer) => {
      if (data[0] === JOIN_ROOM) {
        ws.send(Uint8Array.of(JOIN_ROOM));
        resolve();
      } else if (data[0] === ERROR && warnedAfterMs === undefined && startedAt > 0) {
        warnedAfterMs = performance.now() - startedAt;
      }
    });
    ws.on("error", reject);
  });
  const closing = new Promise<void>((resolve) =>
    ws.on("close", (code: number) => {
      if (startedAt > 0 && !stopping) closed = { afterMs: performance.now() - startedAt, code };
      resolve();
    }),
  );
  await joined;
  startedAt = performance.now();
  if (options.mode === "frame") {
    ws.send(Uint8Array.from(options.frame ?? []));
    await Promise.race([closing, new Promise((r) => setTimeout(r, FRAME_WAIT_MS))]);
  } else {
    // Straight onto the socket, whole frames per write: ws's own sender would copy and mask each one.
    const socket = (ws as unknown as { _socket: Socket })._socket;
    const unit = options.mode === "ping" ? PING_FRAME : CONTROL_PING_FRAME;
    const chunk = Buffer.from(Array.from({ length: Math.floor(65_536 / unit.length) }, () => unit).flat());
    socket.on("error", () => undefined);
    while (closed === undefined && Date.now() < until && socket.writable) {
      bytesWritten += chunk.length;
      if (!socket.write(chunk)) await Promise.race([new Promise((r) => socket.once("drain", r)), closing]);
    }
    // Unwritable before its time is up: ws has answered the node's close frame, and the close follows.
    if (Date.now() < until) await Promise.race([closing, new Promise((r) => setTimeout(r, FRAME_WAIT_MS))]);
  }
  const endedAfterMs = performance.now() - startedAt;
  stopping = true;
  ws.terminate();
  await closing;
  return { warnedAfterMs, closedAfterMs: closed?.afterMs, closeCode: closed?.code, endedAfterMs: closed?.afterMs ?? endedAfterMs, bytesWritten };
}

function joinRoom(url: string, roomId: string, localAddress: string): Promise<{ roomId: string; sessionId: string; processId: string }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ name: "attacker" });
    const req = request(`${url}/matchmake/joinById/${roomId}`, { method: "POST", localAddress, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => {
        const seat = JSON.parse(text) as { roomId?: string; sessionId?: string; processId?: string };
        if (res.statusCode === 200 && seat.roomId && seat.sessionId && seat.processId) resolve(seat as { roomId: string; sessionId: string; processId: string });
        else reject(new Error(`join refused (${res.statusCode}): ${text}`));
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(JSON.parse(process.argv[2]!) as AttackOptions).then(
    (report) => process.stdout.write(JSON.stringify(report)),
    (err: unknown) => {
      process.stderr.write(String(err instanceof Error ? err.stack : err));
      process.exit(1);
    },
  );
}
