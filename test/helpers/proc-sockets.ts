/**
 * Which process holds a connection to which port, read from /proc: how the tests tell a socket
 * relayed by the gateway's HAProxy from one opened straight to a node.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** Established TCP connections the process holds to `port` on this machine. */
export function connectionsTo(pid: number, port: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // A descriptor closed while we listed them.
    }
  }
  let n = 0;
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const remotePort = parseInt(f[2]!.split(":")[1]!, 16);
      if (remotePort === port && f[3] === "01" && inodes.has(f[9]!)) n++;
    }
  }
  return n;
}

/** The process's children (the gateway's HAProxy). */
export function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").split(" ").filter(Boolean).map(Number);
}

export const portOf = (url: string) => Number(new URL(url).port);

/** The gateway's HAProxy, which carries the sockets that go through the gateway. */
export function haproxyOf(gatewayPid: number): number | undefined {
  return childrenOf(gatewayPid).find((pid) => readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "haproxy");
}
