/**
 * The gateway's data planes over real processes: HAProxy (GATEWAY_RELAY=haproxy, the default)
 * carries a stock Colyseus SDK's socket straight to its room's owner, and the gateway keeps it
 * there when the room moves; the Node relay (GATEWAY_RELAY=node) still carries one itself. Which
 * process holds the connection to the owner is read from /proc.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, type Room } from "@colyseus/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGatewayProcess, waitFor } from "../loadtest/processes.ts";
import { readEdgeSettings } from "../server/edge/edge-settings.ts";
import { EnvReader } from "../server/config.ts";
import { haproxyConfig } from "../server/gateway/haproxy-config.ts";
import { backendSessions, parseSessions } from "../server/gateway/haproxy.ts";
import { admin, startCluster, type TestCluster } from "./helpers/cluster.ts";
import { childrenOf, connectionsTo, haproxyOf, portOf } from "./helpers/proc-sockets.ts";


describe("the HAProxy configuration", () => {
  it("passes HAProxy's own check with every edge setting in it", () => {
    const problems: string[] = [];
    const edge = readEdgeSettings(new EnvReader({ TRUSTED_PROXIES: "10.0.0.0/8, ::1", LIMIT_EXEMPT_IPS: "192.0.2.7", MAX_SOCKETS: "500", MAX_SOCKETS_PER_IP: "7" }, problems), problems);
    expect(problems).toEqual([]);
    const dir = mkdtempSync(join(tmpdir(), "locus-haproxy-check-"));
    try {
      const text = haproxyConfig({ host: "127.0.0.1", port: 2567, controlPort: 2999, routeSocket: join(dir, "route.sock"), adminSocket: join(dir, "admin.sock"), luaFile: new URL("../server/gateway/haproxy-route.lua", import.meta.url).pathname, routeWaitSeconds: 10, edge });
      expect(text).toContain("acl unlimited src 10.0.0.0/8 ::1 192.0.2.7");
      expect(text).toContain("sc0_conn_cur gt 7");
      writeFileSync(join(dir, "haproxy.cfg"), text);
      const check = spawnSync("haproxy", ["-c", "-f", join(dir, "haproxy.cfg")], { encoding: "utf8" });
      expect(check.status, check.stdout + check.stderr).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads the sockets carried to the owners from `show stat`'s backend line", () => {
    const csv = [
      "# pxname,svname,qcur,qmax,scur,smax,slim",
      "public,FRONTEND,,,12,40,500",
      "owners,owner,0,0,9,30,",
      "owners,BACKEND,0,0,11,31,50",
      "gateway,BACKEND,0,0,1,4,50",
      "",
    ].join("\n");
    expect(backendSessions(csv, "owners")).toBe(11);
    expect(backendSessions(csv, "missing")).toBe(0);
  });

  it("finds the players' sessions in `show sess`, and only those", () => {
    const text = [
      "0x5639febc35f0: proto=unix_stream src=unix:1 fe=GLOBAL be=<NONE> srv=<none> ts=00 epoch=0 age=0s calls=1",
      "0x7f1f70041fd0: proto=tcpv4 src=127.0.0.1:40774 fe=public be=owners srv=owner ts=00 epoch=0 age=0s calls=5",
      "0x7f1f70042fd0: proto=tcpv4 src=127.0.0.1:40775 fe=public be=gateway srv=gateway ts=00 epoch=0 age=0s calls=5",
      "0x7f1f70043fd0: proto=tcpv6 src=::1:40776 fe=public be=owners srv=owner ts=00 epoch=0 age=0s calls=5",
    ].join("\n");
    expect(parseSessions(text)).toEqual([
      { id: "0x7f1f70041fd0", src: "127.0.0.1:40774" },
      { id: "0x7f1f70043fd0", src: "::1:40776" },
    ]);
  });
});

describe("a stock SDK client through the HAProxy data plane", () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster(2);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("is carried by HAProxy to its room's owner, and to the new owner after a drain, in the same Room", async () => {
    const haproxy = haproxyOf(cluster.gateway.child.pid!);
    expect(haproxy, "the gateway runs HAProxy").toBeDefined();
    const room: Room = await new Client(cluster.gateway.url).create("arena", { name: "stock" });
    // Stock, but for the SDK's minimum uptime before it reconnects by itself (5 s), which a test need not sit out.
    room.reconnection.minUptime = 0;
    let left = false;
    room.onLeave(() => (left = true));
    await waitFor(() => Boolean(room.state?.nodeId), 5000, () => "first state");
    const first = cluster.node(room.state.nodeId);
    await waitFor(() => connectionsTo(haproxy!, portOf(first.url)) === 1, 5000, () => `HAProxy connected to ${first.url}\n${cluster.output()}`);
    // The gateway's own process carries none of it: frozen, the player's state keeps coming.
    let updates = 0;
    room.onStateChange(() => updates++);
    cluster.gateway.child.kill("SIGSTOP");
    try {
      const before = updates;
      await new Promise((r) => setTimeout(r, 500));
      expect(updates - before).toBeGreaterThan(5);
    } finally {
      cluster.gateway.child.kill("SIGCONT");
    }

    const drained = room.state.nodeId;
    expect((await admin(first, "POST", "/drain")).status).toBe(202);
    await waitFor(() => room.state.nodeId !== drained && room.state.nodeId !== "", 10_000, () => `the room moved\n${cluster.output()}`);
    const second = cluster.node(room.state.nodeId);
    await waitFor(() => connectionsTo(haproxy!, portOf(second.url)) === 1, 5000, () => `HAProxy connected to ${second.url}\n${cluster.output()}`);
    expect(connectionsTo(haproxy!, portOf(first.url))).toBe(0);
    expect(left).toBe(false);

    const metrics = await (await fetch(`${cluster.gateway.adminUrl}/metrics`)).text();
    expect(Number(/^locus_gateway_relays_open (\S+)$/m.exec(metrics)?.[1])).toBe(1);
    await room.leave();
  });

  it("leaves no files behind once a SIGKILLed gateway is followed by another", async () => {
    const filesOf = (pid: number) =>
      readdirSync(tmpdir())
        .filter((name) => name.startsWith("locus-gateway-"))
        .map((name) => join(tmpdir(), name))
        .filter((dir) => {
          try {
            return readFileSync(join(dir, "gateway.pid"), "utf8") === String(pid);
          } catch {
            return false;
          }
        });
    const killed = await startGatewayProcess({ REDIS_URL: cluster.redis.redisUrl });
    const pid = killed.child.pid!;
    const left = filesOf(pid);
    expect(left).toHaveLength(1);
    const exited = new Promise((r) => killed.child.once("exit", r));
    killed.child.kill("SIGKILL");
    await exited;
    expect(filesOf(pid), "a SIGKILLed gateway cannot clean up after itself").toEqual(left);
    const next = await startGatewayProcess({ REDIS_URL: cluster.redis.redisUrl });
    try {
      expect(filesOf(pid)).toEqual([]);
      expect(filesOf(next.child.pid!)).toHaveLength(1);
    } finally {
      await next.stop();
    }
  });

  it("with GATEWAY_RELAY=node, is relayed by the gateway's own process instead", async () => {
    const gateway = await startGatewayProcess({ REDIS_URL: cluster.redis.redisUrl, GATEWAY_RELAY: "node" });
    try {
      expect(childrenOf(gateway.child.pid!)).toEqual([]);
      const room: Room = await new Client(gateway.url).create("arena", { name: "piped" });
      await waitFor(() => Boolean(room.state?.nodeId), 5000, () => "first state");
      const owner = cluster.node(room.state.nodeId);
      await waitFor(() => connectionsTo(gateway.child.pid!, portOf(owner.url)) === 1, 5000, () => `the gateway relays to ${owner.url}`);
      await room.leave();
    } finally {
      await gateway.stop();
    }
  });
});
