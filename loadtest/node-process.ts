/**
 * Real Locus node processes for tests and benchmarks: spawned with the Node that runs the tests, killed by
 * signal, their logs kept for the failure message.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "./ports.ts";

const MAIN = fileURLToPath(new URL("../server/main.ts", import.meta.url));

export interface NodeProcess {
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process printed, stdout and stderr interleaved. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  readonly exited: Promise<number | string>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Pin the node to this CPU core with taskset, so benchmark clients do not share its core. */
  readonly core?: number;
}

export async function startNodeProcess(env: Record<string, string> = {}, options: StartOptions = {}): Promise<NodeProcess> {
  const port = await freePort();
  const [command, args] =
    options.core === undefined ? [process.execPath, [MAIN]] : ["taskset", ["-c", String(options.core), process.execPath, MAIN]];
  const child = spawn(command, args, {
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout!.on("data", (chunk: Buffer) => (log += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok === true, 15_000, () => `node did not become ready:\n${log}`);
  return {
    port,
    url,
    child,
    output: () => log,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Polls until `check` holds; fails with `describe()` after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, describe: () => string = () => "condition"): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${describe()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
