import { describe, expect, it } from "vitest";
import { leastLoaded, type NodeRecord } from "./node-registry.ts";

function node(nodeId: string, rooms: number, players: number, state: NodeRecord["state"] = "ready"): NodeRecord {
  return { nodeId, address: `http://${nodeId}`, processId: `p-${nodeId}`, state, rooms, players, pid: 1, heartbeatAt: 0 };
}

describe("placement", () => {
  it("counts rooms before players: a node of empty rooms is not the least loaded", () => {
    expect(leastLoaded([node("a", 40, 0), node("b", 2, 30)])?.nodeId).toBe("b");
    expect(leastLoaded([node("a", 3, 10), node("b", 3, 2)])?.nodeId).toBe("b");
  });

  it("skips nodes that are not ready", () => {
    expect(leastLoaded([node("a", 0, 0, "draining"), node("b", 9, 9)])?.nodeId).toBe("b");
  });
});
