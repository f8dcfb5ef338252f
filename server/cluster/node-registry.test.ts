import { describe, expect, it } from "vitest";
import { byLoad, leastLoaded, type NodeRecord, parseNodeRecord } from "./node-registry.ts";

const good: NodeRecord = {
  nodeId: "n1",
  address: "http://10.0.0.5:2567",
  processId: "Ab3_-xYz9",
  state: "ready",
  players: 12,
  rooms: 2,
  pid: 4242,
  heartbeatAt: 1_750_000_000_000,
};

const problem = (record: unknown, nodeId = "n1") => {
  const parsed = parseNodeRecord(nodeId, typeof record === "string" ? record : JSON.stringify(record));
  return parsed.ok ? undefined : parsed.error;
};

describe("parseNodeRecord", () => {
  it("reads what a node's heartbeat writes, with or without an admin address", () => {
    expect(parseNodeRecord("n1", JSON.stringify(good))).toEqual({ ok: true, value: good });
    const withAdmin = { ...good, adminAddress: "http://10.0.0.5:9090" };
    expect(parseNodeRecord("n1", JSON.stringify(withAdmin))).toEqual({ ok: true, value: withAdmin });
  });

  it("reads a public websocket address (PUBLIC_URL) when the node advertises one", () => {
    const withPublic = { ...good, publicUrl: "wss://n1.game.example.com" };
    expect(parseNodeRecord("n1", JSON.stringify(withPublic))).toEqual({ ok: true, value: withPublic });
  });

  it("ignores fields it does not know, which newer nodes may add", () => {
    const parsed = parseNodeRecord("n1", JSON.stringify({ ...good, zone: "eu-1" }));
    expect(parsed.ok && parsed.value).toEqual(good);
  });

  const bad: [string, unknown, string][] = [
    ["junk JSON", "{not json", "not JSON"],
    ["an array", "[1,2]", "not an object"],
    ["null", "null", "not an object"],
    ["another node's record", { ...good, nodeId: "n2" }, "nodeId"],
    ["an address that is a number", { ...good, address: 5 }, "address"],
    ["an address with a path", { ...good, address: "http://10.0.0.5:2567/evil" }, "address"],
    ["an address with credentials", { ...good, address: "http://u:p@10.0.0.5:2567" }, "address"],
    ["an address with a port out of range", { ...good, address: "http://10.0.0.5:99999" }, "address"],
    ["a non-http address", { ...good, address: "file:///etc" }, "address"],
    ["a bad admin address", { ...good, adminAddress: "ftp://x" }, "adminAddress"],
    ["a public address that is http", { ...good, publicUrl: "http://10.0.0.5:2567" }, "publicUrl"],
    ["a public address with a path", { ...good, publicUrl: "ws://10.0.0.5:2567/evil" }, "publicUrl"],
    ["a public address that is a number", { ...good, publicUrl: 5 }, "publicUrl"],
    ["an unknown state", { ...good, state: "drained" }, "state"],
    ["a count as text", { ...good, players: "many" }, "players"],
    ["a negative count", { ...good, rooms: -1 }, "rooms"],
    ["a fractional pid", { ...good, pid: 1.5 }, "pid"],
    ["a heartbeat as text", { ...good, heartbeatAt: "now" }, "heartbeatAt"],
    ["a processId that is not one", { ...good, processId: ["x"] }, "processId"],
  ];
  for (const [what, record, field] of bad) {
    it(`refuses ${what}`, () => {
      expect(problem(record)).toContain(field);
    });
  }

  it("refuses a key that names no node id", () => {
    expect(problem({ ...good, nodeId: "has space" }, "has space")).toContain("no valid node id");
  });

  it("orders by load as placement does", () => {
    const light = { ...good, nodeId: "b", players: 1 };
    const heavy = { ...good, nodeId: "a", players: 9 };
    expect([heavy, light].sort(byLoad)).toEqual([light, heavy]);
  });
});

describe("placement", () => {
  const node = (nodeId: string, rooms: number, players: number, state: NodeRecord["state"] = "ready"): NodeRecord => ({ ...good, nodeId, rooms, players, state });

  it("counts rooms before players: a node of empty rooms is not the least loaded", () => {
    expect(leastLoaded([node("a", 40, 0), node("b", 2, 30)])?.nodeId).toBe("b");
    expect(leastLoaded([node("a", 3, 10), node("b", 3, 2)])?.nodeId).toBe("b");
  });

  it("skips nodes that are not ready", () => {
    expect(leastLoaded([node("a", 0, 0, "draining"), node("b", 9, 9)])?.nodeId).toBe("b");
  });
});
