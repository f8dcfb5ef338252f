/**
 * The HAProxy process a gateway runs as its data plane (GATEWAY_RELAY=haproxy), and its runtime
 * API. The gateway starts it with the configuration of haproxy-config.ts in a directory of its
 * own, and it dies with the gateway: killed on a clean stop, and by the kernel (`setpriv
 * --pdeathsig`) when the gateway itself is killed, so a restarted gateway finds its port free.
 * Should HAProxy die on its own, the gateway has no public port left and exits too.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { EdgeSettings } from "../edge/edge-settings.ts";
import { haproxyConfig } from "./haproxy-config.ts";

const LUA_FILE = fileURLToPath(new URL("./haproxy-route.lua", import.meta.url));
/** How long HAProxy may take to answer its runtime API after it was started. */
const START_TIMEOUT_MS = 10_000;
/** Output kept for the message of a HAProxy that would not start or died. */
const OUTPUT_KEPT = 4000;

export interface HaproxyOptions {
  readonly host: string;
  readonly port: number;
  readonly controlPort: number;
  readonly routeWaitSeconds: number;
  readonly edge: EdgeSettings;
}

/** The files the gateway and its HAProxy share: made before either listens. */
export interface HaproxyFiles {
  readonly dir: string;
  readonly routeSocket: string;
  readonly adminSocket: string;
}

const FILES_PREFIX = "locus-gateway-";
/** Names the gateway that made a directory, so that a later gateway can tell a dead one's leftovers. */
const OWNER_FILE = "gateway.pid";

export function haproxyFiles(): HaproxyFiles {
  removeDeadGatewaysFiles();
  const dir = mkdtempSync(join(tmpdir(), FILES_PREFIX));
  writeFileSync(join(dir, OWNER_FILE), String(process.pid));
  return { dir, routeSocket: join(dir, "route.sock"), adminSocket: join(dir, "admin.sock") };
}

/**
 * A SIGKILLed gateway cannot remove its directory, and its HAProxy dies with it; without this
 * sweep every such kill would leave a directory and two dead sockets in the temp dir for good.
 */
function removeDeadGatewaysFiles(): void {
  const root = tmpdir();
  for (const name of readdirSync(root)) {
    if (!name.startsWith(FILES_PREFIX)) continue;
    const dir = join(root, name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, OWNER_FILE), "utf8"));
    } catch {
      continue; // not ours to judge: another user's, or one being made right now
    }
    if (Number.isInteger(owner) && owner > 0 && !processAlive(owner)) rmSync(dir, { recursive: true, force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, but another user's.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Why HAProxy cannot run here, or undefined when it can. */
export function haproxyMissing(): string | undefined {
  const found = spawnSync("haproxy", ["-v"], { encoding: "utf8" });
  if (found.error || found.status !== 0) return "GATEWAY_RELAY=haproxy needs HAProxy (Debian: apt-get install haproxy), which is not on PATH; or set GATEWAY_RELAY=node";
  return undefined;
}

export class Haproxy {
  readonly child: ChildProcess;
  readonly runtime: HaproxyRuntime;
  /** Settles when HAProxy exits, with what it printed last. */
  readonly exited: Promise<string>;
  private readonly files: HaproxyFiles;

  private constructor(child: ChildProcess, files: HaproxyFiles, exited: Promise<string>) {
    this.child = child;
    this.files = files;
    this.runtime = new HaproxyRuntime(files.adminSocket);
    this.exited = exited;
  }

  /** Starts HAProxy and resolves once it listens and answers its runtime API. */
  static async start(files: HaproxyFiles, o: HaproxyOptions, onOutput: (text: string) => void): Promise<Haproxy> {
    const configFile = join(files.dir, "haproxy.cfg");
    writeFileSync(configFile, haproxyConfig({ ...o, routeSocket: files.routeSocket, adminSocket: files.adminSocket, luaFile: LUA_FILE }));
    const child = spawn("setpriv", ["--pdeathsig", "KILL", "--", "haproxy", "-db", "-f", configFile], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-OUTPUT_KEPT);
      onOutput(chunk.toString());
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    const exited = new Promise<string>((resolve) => {
      child.once("exit", () => resolve(output));
      child.once("error", (err) => resolve(`${output}${err.message}`));
    });
    const haproxy = new Haproxy(child, files, exited);
    const deadline = Date.now() + START_TIMEOUT_MS;
    let gone = false;
    void exited.then(() => (gone = true));
    while (!(await haproxy.runtime.command("show info").then(() => true, () => false))) {
      if (gone) throw new Error(`haproxy did not start:\n${await exited}`);
      if (Date.now() > deadline) {
        haproxy.stop();
        throw new Error(`haproxy did not answer its runtime API within ${START_TIMEOUT_MS} ms:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return haproxy;
  }

  /** Stops HAProxy at once (its players' sockets are cut, as a stopping gateway's were) and removes its files. */
  stop(): void {
    this.child.kill("SIGTERM");
    rmSync(this.files.dir, { recursive: true, force: true });
  }
}

/** A session HAProxy is relaying: its id for the runtime API and the client's address and port. */
export interface HaproxySession {
  readonly id: string;
  readonly src: string;
}

/** HAProxy's runtime API on its unix socket: one command per connection. */
export class HaproxyRuntime {
  private readonly socketPath: string;

  constructor(socketPath: string) {
    this.socketPath = socketPath;
  }

  command(line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.socketPath);
      const chunks: Buffer[] = [];
      socket.on("data", (c: Buffer) => chunks.push(c));
      socket.once("error", reject);
      socket.once("end", () => resolve(Buffer.concat(chunks).toString()));
      socket.end(`${line}\n`);
    });
  }

  /** The sockets HAProxy relays to the room owners now. */
  async roomSessions(): Promise<HaproxySession[]> {
    return parseSessions(await this.command("show sess"));
  }

  /** How many sockets HAProxy relays to the room owners now: one line of `show stat`, however many there are. */
  async ownersCarried(): Promise<number> {
    return backendSessions(await this.command("show stat"), "owners");
  }

  shutdownSession(id: string): Promise<string> {
    return this.command(`shutdown session ${id}`);
  }
}

const SESSION_LINE = /^(0x[0-9a-f]+): proto=\S+ src=(\S+) fe=public be=owners /;

/** `show sess` lines of the sessions the `owners` backend carries. */
export function parseSessions(text: string): HaproxySession[] {
  const sessions: HaproxySession[] = [];
  for (const line of text.split("\n")) {
    const m = SESSION_LINE.exec(line);
    if (m) sessions.push({ id: m[1]!, src: m[2]! });
  }
  return sessions;
}

/** A backend's current sessions (`scur`) in `show stat`'s CSV; 0 when it is not listed. */
export function backendSessions(csv: string, backend: string): number {
  const [header, ...rows] = csv.split("\n");
  const scur = header?.replace(/^# /, "").split(",").indexOf("scur") ?? -1;
  if (scur < 0) return 0;
  for (const row of rows) {
    const fields = row.split(",");
    if (fields[0] === backend && fields[1] === "BACKEND") return Number(fields[scur]) || 0;
  }
  return 0;
}
