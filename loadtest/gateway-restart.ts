/**
 * Restarting the Locus gateway that listens on a port of this machine, as a crash and a
 * supervisor's restart would: SIGKILL (every player's socket ends at once), then the same command
 * line, environment and directory again. Only a process whose command line is a Locus gateway is
 * ever touched.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

const LISTEN = "0A";
const GONE_WAIT_MS = 5000;

export async function restartLocalGateway(port: number): Promise<string> {
  const listener = listeningPid(port);
  if (listener === undefined) throw new Error(`no process of this user listens on port ${port} here`);
  // A gateway's HAProxy (GATEWAY_RELAY=haproxy) holds its port: the gateway is its parent, and takes it along when killed.
  const pid = [listener, parentOf(listener)].find((p) => p !== undefined && isGateway(p));
  if (pid === undefined) throw new Error(`pid ${listener} on port ${port} is not a Locus gateway, nor its HAProxy`);
  const argv = commandLine(pid);
  const env = Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, "utf8")
      .split("\0")
      .filter((kv) => kv.includes("="))
      .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );
  const cwd = readlinkSync(`/proc/${pid}/cwd`);
  process.kill(pid, "SIGKILL");
  const until = Date.now() + GONE_WAIT_MS;
  while (listeningPid(port) === listener) {
    if (Date.now() > until) throw new Error(`gateway pid ${pid} did not end`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const child = spawn(argv[0]!, argv.slice(1), { cwd, env, detached: true, stdio: "ignore" });
  child.unref();
  return `restarted the gateway on port ${port} (pid ${pid}, now pid ${child.pid})`;
}

function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
}

function isGateway(pid: number): boolean {
  try {
    return commandLine(pid).some((arg) => arg.endsWith("server/gateway/main.ts"));
  } catch {
    return false;
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

/** The pid of the process listening on `port`, from the kernel's socket tables and each process's open files. */
function listeningPid(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === LISTEN && Number.parseInt(f[1]!.split(":")[1]!, 16) === port) inodes.add(`socket:[${f[9]}]`);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (inodes.has(readlinkSync(`/proc/${entry}/fd/${fd}`))) return Number(entry);
      } catch {
        // The descriptor closed while being read.
      }
    }
  }
  return undefined;
}
