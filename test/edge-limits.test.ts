/**
 * Attacks on one node's public edge, over real sockets from an attacker's own loopback address:
 * oversized and trickled bodies, a socket flood, seat squatting. Each is refused with a clear
 * answer, and the honest players in the attacked room keep their state updates, the node its
 * health check and its memory.
 */
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { LeanBot } from "../loadtest/lean-bot.ts";
import { type NodeProcess, startNodeProcess, waitFor } from "../loadtest/processes.ts";
import { matchmake, openIdleSockets, postHugeBody, send, serverClosed, upgrade } from "./helpers/attacker.ts";
import { attackSuite } from "./helpers/attack-suite.ts";

const ATTACKER = "127.0.0.2";
const MB = 1 << 20;
const suite = attackSuite();

async function node(env: Record<string, string> = {}): Promise<NodeProcess> {
  const n = await startNodeProcess({ LOG_LEVEL: "info", ...env });
  suite.defer(() => n.stop());
  return n;
}

describe("request bodies", () => {
  it("answers 413 to eight parallel 50 MB matchmaking bodies, declared or chunked, and buffers none of them", async () => {
    const n = await node();
    const players = await suite.honest(n.url);
    const statuses: number[] = [];
    await suite.underAttack("8 × 50 MB bodies (declared) + 8 × 50 MB chunked", n, players, async () => {
      const huge = (chunked: boolean) => Array.from({ length: 8 }, () => postHugeBody(n.url, "/matchmake/joinOrCreate/arena", 50 * MB, ATTACKER, chunked));
      statuses.push(...(await Promise.all([...huge(false), ...huge(true)])));
    });
    expect(statuses).toEqual(Array(16).fill(413));
    const metrics = await (await fetch(`${n.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/locus_edge_refusals_total\{reason="body_too_large"[^}]*\} 16/);
    // Logged once for the offender, however many bodies it sent.
    expect(n.output().match(/"event":"edge_refused","reason":"body_too_large"/g)).toHaveLength(1);
  });

  it("cuts a body or headers trickled a byte at a time when the request timeout runs out", async () => {
    const n = await node({ HEADERS_TIMEOUT_MS: "2000", REQUEST_TIMEOUT_MS: "3000" });
    const players = await suite.honest(n.url);
    const cutAfterMs: number[] = [];
    const answers: string[] = [];
    await suite.underAttack(
      "20 trickled bodies + 20 trickled headers",
      n,
      players,
      async () => {
        const sockets = await openIdleSockets(n.url, 40, ATTACKER);
        const started = performance.now();
        sockets.forEach((s, i) => {
          s.on("data", (d: Buffer) => answers.push(d.toString("latin1").split("\r\n")[0]!));
          s.write(i < 20 ? "POST /matchmake/joinOrCreate/arena HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n" : "POST /matchmake/joinOrCreate/arena HTTP/1.1\r\n");
        });
        const trickle = setInterval(() => sockets.forEach((s, i) => !serverClosed(s) && s.write(i < 20 ? "a" : "X-Slow: 1\r\n")), 1000);
        await Promise.all(sockets.map((s) => new Promise((r) => s.once("close", () => r(cutAfterMs.push(performance.now() - started))))));
        clearInterval(trickle);
      },
      6000,
    );
    expect(cutAfterMs).toHaveLength(40);
    // The timeout plus Node's one-second check, far from the 320 s a trickle used to hold a socket.
    expect(Math.max(...cutAfterMs)).toBeLessThan(5000);
    expect(answers.filter((a) => a === "HTTP/1.1 408 Request Timeout")).toHaveLength(40);
  });
});

describe("sockets from one address", () => {
  it("refuses a flood past MAX_SOCKETS_PER_IP within a second, while another address still connects", async () => {
    const n = await node();
    const players = await suite.honest(n.url);
    let held: Socket[] = [];
    let refusedTold: string[] = [];
    let newcomer: LeanBot | undefined;
    await suite.underAttack("400 idle sockets + 50 requests from one address", n, players, async () => {
      held = await openIdleSockets(n.url, 400, ATTACKER);
      suite.defer(() => held.forEach((s) => s.destroy()));
      // Past the cap a socket that says nothing is cut after a second; one that asks is told why.
      await waitFor(() => held.filter(serverClosed).length >= 400 - 256, 2000, () => `${held.filter(serverClosed).length} of 144 cut`);
      const asking = await Promise.all([
        ...Array.from({ length: 25 }, () => send(n.url, "/healthz", { method: "GET", from: ATTACKER }).then((a) => `${a.status} ${a.body}`)),
        ...Array.from({ length: 25 }, () => upgrade(n.url, "/any/room", ATTACKER).then((u) => `${u.status} ${u.text.slice(u.text.indexOf("\r\n\r\n") + 4)}`)),
      ]);
      refusedTold = asking;
      newcomer = await LeanBot.join({ url: n.url, name: "newcomer", tickHz: 30, roomId: players.roomId });
      suite.defer(() => newcomer?.close());
    });
    expect(held.filter((s) => !serverClosed(s))).toHaveLength(256);
    expect(new Set(refusedTold)).toEqual(new Set([`429 {"code":429,"error":"too many connections from ${ATTACKER}: at most 256 at once"}`]));
    expect(newcomer?.roomId).toBe(players.roomId);
    // Their sockets gone, the attacker's address may connect again.
    held.forEach((s) => s.destroy());
    await waitFor(async () => (await send(n.url, "/healthz", { method: "GET", from: ATTACKER }).catch(() => ({ status: 0 }))).status === 200, 3000, () => "the attacker's address admitted again");
  });
});

describe("seat reservations", () => {
  it("lets one address hold MAX_PENDING_SEATS_PER_IP unconnected seats in a room, and an honest player still joins", async () => {
    const n = await node();
    const players = await suite.honest(n.url);
    const answers: number[] = [];
    let reservedAt = 0;
    await suite.underAttack("15 joinById never connected", n, players, async () => {
      reservedAt = performance.now();
      for (let i = 0; i < 15; i++) answers.push((await matchmake(n.url, `joinById/${players.roomId}`, ATTACKER)).status);
    });
    expect(answers.filter((s) => s === 200)).toHaveLength(4);
    expect(answers.filter((s) => s !== 200)).toEqual(Array(11).fill(503));
    const latecomer = await LeanBot.join({ url: n.url, name: "latecomer", tickHz: 30, roomId: players.roomId });
    suite.defer(() => latecomer.close());
    expect(n.output().match(/"reason":"pending_seats","offender":"127\.0\.0\.2"/g)).toHaveLength(1);
    // SEAT_RESERVATION_SECONDS (8) later the squatted seats are free again.
    await new Promise((r) => setTimeout(r, Math.max(0, 8500 - (performance.now() - reservedAt))));
    expect((await matchmake(n.url, `joinById/${players.roomId}`, ATTACKER)).status).toBe(200);
  });
});
