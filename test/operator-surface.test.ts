/**
 * The operator surface off the public address: /admin and /metrics answer only on each process's
 * operator listener, never on a game port and never through a gateway; the ops CLI reaches a node
 * by its id; CORS grants only ALLOWED_ORIGINS; a failed admin authentication is logged and counted
 * without flooding the log. Honest players in the same room play on through each attack.
 */
import { spawn } from "node:child_process";
import { type IncomingHttpHeaders, request } from "node:http";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type LocusProcess, type NodeProcess, startGatewayProcess, startNodeProcess, waitFor } from "../loadtest/processes.ts";
import { ADMIN_TOKEN, admin, startCluster, type TestCluster } from "./helpers/cluster.ts";
import { type HonestPlayers, joinHonestPlayers, underAttack } from "./helpers/honest-players.ts";

const ALLOWED = "https://game.example.com";
const FOREIGN = "https://evil.example";
const OPS = fileURLToPath(new URL("../server/ops/ops.ts", import.meta.url));
/** The paths an attacker tries on a public address, the right token in hand (a leaked one). */
const OPERATOR_PATHS: [string, string][] = [
  ["GET", "/metrics"],
  ["GET", "/metrics/"],
  ["GET", "/admin/status"],
  ["GET", "/ADMIN/Status"],
  ["POST", "/admin/drain"],
  ["POST", "/admin/undrain"],
];
/** How long each attack goes on, within its 3 s window. */
const ATTACK_MS = 2500;

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One HTTP request, from `localAddress` when given (an attacker's address on this machine). */
function send(url: string, method: string, headers: Record<string, string> = {}, body?: string, localAddress?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, ...(localAddress ? { localAddress } : {}) }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const corsHeaders = (a: Answer) => Object.keys(a.headers).filter((h) => h.startsWith("access-control-"));
const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };
const preflight = (origin: string) => ({ origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" });
const join = (url: string, origin: string) => send(`${url}/matchmake/joinOrCreate/arena`, "POST", { origin, "content-type": "application/json" }, JSON.stringify({ name: "Cors" }));

/** A counter's value on a Prometheus page, the sample whose labels include `labels`. */
function counter(metrics: string, name: string, labels = ""): number {
  const line = metrics.split("\n").find((l) => l.startsWith(`${name}{`) ? l.includes(labels) : labels === "" && l.startsWith(`${name} `));
  return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : 0;
}
const metricsOf = async (p: LocusProcess) => (await send(`${p.adminUrl}/metrics`, "GET")).body;

let honest: HonestPlayers | undefined;
afterEach(async () => {
  await honest?.close();
  honest = undefined;
});

describe("a lone node", () => {
  let node: NodeProcess;
  beforeAll(async () => {
    node = await startNodeProcess({ NODE_ID: "op-node", ADMIN_TOKEN, ALLOWED_ORIGINS: ALLOWED });
  });
  afterAll(async () => {
    await node?.stop();
  });

  it("answers 404 for /admin and /metrics on the game port, and serves them on its operator listener", async () => {
    for (const [method, path] of OPERATOR_PATHS) {
      expect((await send(`${node.url}${path}`, method, bearer)).status, `${method} ${path}`).toBe(404);
    }
    expect((await send(`${node.url}/healthz`, "GET")).status).toBe(200);
    expect((await send(`${node.adminUrl}/healthz`, "GET")).status).toBe(200);
    expect((await send(`${node.adminUrl}/readyz`, "GET")).status).toBe(200);
    const metrics = await send(`${node.adminUrl}/metrics`, "GET");
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain("locus_tick_duration_seconds");
    expect(JSON.parse((await send(`${node.adminUrl}/admin/status`, "GET", bearer)).body)).toMatchObject({ node: "op-node", state: "ready" });
    expect(node.output()).toContain(`"admin":"${node.adminUrl}"`);
  });

  it("grants CORS to an allowed origin only, exactly its own, and the operator listener to none, while honest players play on", async () => {
    honest = await joinHonestPlayers(node.url, 4);
    const answers: Answer[] = [];
    // A foreign page visited by many browsers: the preflight each browser sends before the page may call the API.
    await underAttack("a foreign origin's preflights from two addresses", honest, { healthUrl: `${node.url}/healthz`, nodes: [node] }, async () => {
      const until = Date.now() + ATTACK_MS;
      while (Date.now() < until) {
        answers.push(
          ...(await Promise.all([
            send(`${node.url}/matchmake/joinOrCreate/arena`, "OPTIONS", preflight(FOREIGN), undefined, "127.0.0.2"),
            send(`${node.url}/matchmake/joinOrCreate/arena`, "OPTIONS", preflight(FOREIGN), undefined, "127.0.0.3"),
          ])),
        );
      }
    });
    expect(answers.length).toBeGreaterThan(20);
    for (const refused of answers) {
      expect(refused.status).toBe(403);
      expect(corsHeaders(refused)).toEqual([]);
    }
    const foreignJoin = await join(node.url, FOREIGN);
    expect(foreignJoin.status).toBe(200);
    expect(corsHeaders(foreignJoin)).toEqual([]);
    expect(corsHeaders(await send(`${node.url}/`, "GET", { origin: FOREIGN }))).toEqual([]);
    // Logged once for the page's origin, however many browsers asked: the first line, its sum later.
    const lines = node.output().split("\n").filter((l) => l.includes('"reason":"cors_preflight"'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`"offender":"${FOREIGN}"`);

    const granted = await send(`${node.url}/matchmake/joinOrCreate/arena`, "OPTIONS", preflight(ALLOWED));
    expect(granted.status).toBe(204);
    expect(granted.headers["access-control-allow-origin"]).toBe(ALLOWED);
    expect(granted.headers["access-control-allow-credentials"]).toBe("true");
    expect((await join(node.url, ALLOWED)).headers["access-control-allow-origin"]).toBe(ALLOWED);

    for (const [method, headers] of [["OPTIONS", preflight(ALLOWED)], ["GET", { origin: ALLOWED, ...bearer }]] as const) {
      expect(corsHeaders(await send(`${node.adminUrl}/admin/status`, method, headers))).toEqual([]);
    }
  });

  it("logs a brute force on the admin API once per address and counts every try, while honest players play on", async () => {
    honest = await joinHonestPlayers(node.url, 4);
    const before = counter(await metricsOf(node), "locus_admin_auth_failures_total");
    const linesBefore = node.output().split("\n").filter((l) => l.includes('"event":"admin_auth_failed"')).length;
    let tries = 0;
    await underAttack("admin token brute force from two addresses", honest, { healthUrl: `${node.url}/healthz`, nodes: [node] }, async () => {
      const until = Date.now() + ATTACK_MS;
      while (Date.now() < until) {
        await Promise.all([
          send(`${node.adminUrl}/admin/drain`, "POST", { authorization: `Bearer guess-${tries}-0123456789` }, undefined, "127.0.0.2"),
          send(`${node.adminUrl}/admin/status?token=${ADMIN_TOKEN.slice(0, 8)}`, "GET", {}, undefined, "127.0.0.3"),
        ]);
        tries++;
      }
    });
    expect(tries).toBeGreaterThan(20);
    expect(counter(await metricsOf(node), "locus_admin_auth_failures_total")).toBe(before + 2 * tries);
    const lines = node
      .output()
      .split("\n")
      .filter((l) => l.includes('"event":"admin_auth_failed"'))
      .slice(linesBefore)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    // The window (10 s) outlasts the attack: one line per address so far, the sum comes when it closes.
    expect(lines.map(({ offender, path, reason, count }) => ({ offender, path, reason, count }))).toEqual([
      { offender: "127.0.0.2", path: "/admin/drain", reason: "wrong bearer token", count: 1 },
      { offender: "127.0.0.3", path: "/admin/status", reason: "no bearer token", count: 1 },
    ]);
    expect(node.output()).not.toContain("guess-");
    expect(node.output()).not.toContain(ADMIN_TOKEN.slice(0, 8));
  });
});

describe("a two-node cluster behind a gateway", () => {
  let cluster: TestCluster;
  /** A gateway that allows ALLOWED; the cluster's own allows nothing. */
  let gateway: LocusProcess;
  beforeAll(async () => {
    cluster = await startCluster(2, { ALLOWED_ORIGINS: ALLOWED });
    gateway = await startGatewayProcess({ REDIS_URL: cluster.redis.redisUrl, ALLOWED_ORIGINS: ALLOWED });
  });
  afterAll(async () => {
    await gateway?.stop();
    await cluster?.stop();
  });

  it("never relays /admin or /metrics: the gateway answers 404 itself, and honest players play on", async () => {
    honest = await joinHonestPlayers(gateway.url, 4);
    const nodes = [cluster.node("n1"), cluster.node("n2")];
    const before = await metricsOf(gateway);
    let sent = 0;
    await underAttack("/admin and /metrics through a gateway, with the right token", honest, { healthUrl: `${gateway.url}/healthz`, nodes }, async () => {
      const until = Date.now() + ATTACK_MS;
      while (Date.now() < until) {
        const answers = await Promise.all(OPERATOR_PATHS.map(([method, path]) => send(`${gateway.url}${path}`, method, bearer, undefined, "127.0.0.2")));
        for (const a of answers) expect(a.status).toBe(404);
        sent += answers.length;
      }
    });
    expect(sent).toBeGreaterThan(50);
    const after = await metricsOf(gateway);
    // Nothing was sent on to a node: every one was refused by the gateway, none proxied.
    expect(counter(after, "locus_gateway_requests_proxied_total")).toBe(counter(before, "locus_gateway_requests_proxied_total"));
    expect(counter(after, "locus_gateway_requests_refused_total", 'reason="operator_path"') - counter(before, "locus_gateway_requests_refused_total", 'reason="operator_path"')).toBe(sent);
    for (const n of nodes) expect((await admin(n, "GET", "/status")).body.state).toBe("ready");
    // Nor as a websocket: an upgrade to an operator path is refused before any lookup.
    // The reason travels in the JSON body ({ code, error: "not a room socket" }), as every edge refusal does.
    expect(await upgradeStatusLine(gateway.port, "/admin/drain")).toBe("HTTP/1.1 404 Not Found");
    expect(counter(await metricsOf(gateway), "locus_gateway_upgrades_refused_total", 'reason="not_a_room"')).toBe(1);
  });

  it("serves the gateway's own health and counters on its operator listener", async () => {
    expect((await send(`${gateway.adminUrl}/healthz`, "GET")).status).toBe(200);
    expect((await send(`${gateway.adminUrl}/readyz`, "GET")).status).toBe(200);
    expect((await send(`${gateway.adminUrl}/admin/status`, "GET", bearer)).status).toBe(404);
    honest = await joinHonestPlayers(gateway.url, 2);
    // The last test's players' relays close as their sockets do, a moment after they leave.
    await waitFor(async () => counter(await metricsOf(gateway), "locus_gateway_relays_open") === 2, 5000, () => "two relays open");
    const metrics = await metricsOf(gateway);
    expect(counter(metrics, "locus_gateway_requests_proxied_total")).toBeGreaterThanOrEqual(2);
    expect(metrics).toContain("locus_gateway_process_resident_memory_bytes");
  });

  it("grants CORS to an allowed origin only, by the gateway's own policy, whatever the nodes say", async () => {
    const before = await metricsOf(gateway);
    const refused = await send(`${gateway.url}/matchmake/joinOrCreate/arena`, "OPTIONS", preflight(FOREIGN));
    expect(refused.status).toBe(403);
    expect(corsHeaders(refused)).toEqual([]);
    expect(counter(await metricsOf(gateway), "locus_gateway_requests_proxied_total")).toBe(counter(before, "locus_gateway_requests_proxied_total"));
    expect(corsHeaders(await join(gateway.url, FOREIGN))).toEqual([]);

    const granted = await send(`${gateway.url}/matchmake/joinOrCreate/arena`, "OPTIONS", preflight(ALLOWED));
    expect(granted.status).toBe(204);
    expect(granted.headers["access-control-allow-origin"]).toBe(ALLOWED);
    const allowedJoin = await join(gateway.url, ALLOWED);
    expect(allowedJoin.status).toBe(200);
    expect(allowedJoin.headers["access-control-allow-origin"]).toBe(ALLOWED);
    expect(allowedJoin.headers["access-control-allow-credentials"]).toBe("true");
    // The cluster's other gateway allows no origin: the nodes' grant for ALLOWED does not leak through it.
    expect((await send(`${cluster.gateway.url}/matchmake/joinOrCreate/arena`, "OPTIONS", preflight(ALLOWED))).status).toBe(403);
    expect(corsHeaders(await join(cluster.gateway.url, ALLOWED))).toEqual([]);
  });

  it("lets `npm run ops` drain and undrain the node it names, by id, at its admin address", async () => {
    const n1 = cluster.node("n1");
    const n2 = cluster.node("n2");
    const listed = await ops("nodes");
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(n1.adminUrl);
    expect(listed.stdout).toContain(n2.adminUrl);

    const drained = await ops("drain", "n1");
    expect(drained.code, drained.stderr).toBe(0);
    expect((await admin(n1, "GET", "/status")).body.state).toBe("drained");
    expect((await admin(n2, "GET", "/status")).body.state).toBe("ready");
    expect((await send(`${n1.url}/readyz`, "GET")).status).toBe(503);

    // Through a gateway an undrain reached an arbitrary node, never the drained one; by id it does.
    const undrained = await ops("undrain", "n1");
    expect(undrained.code, undrained.stderr).toBe(0);
    expect(undrained.stdout).toContain("n1 is back in service");
    expect((await admin(n1, "GET", "/status")).body.state).toBe("ready");
    expect((await send(`${n1.url}/readyz`, "GET")).status).toBe(200);

    const wrongToken = await ops("undrain", "n2", "--token", "not-the-admin-token");
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toContain("n2 refused the admin token");
    expect(wrongToken.stderr).not.toContain("not-the-admin-token");
  });

  function ops(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, [OPS, ...args], { env: { ...process.env, REDIS_URL: cluster.redis.redisUrl, ADMIN_TOKEN }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stdout, stderr })));
  }
});

/** The status line a websocket upgrade to `path` gets. */
function upgradeStatusLine(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port }, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    let text = "";
    socket.on("data", (d: Buffer) => (text += d.toString()));
    socket.on("close", () => resolve(text.split("\r\n")[0]!));
    socket.on("error", reject);
  });
}
