/**
 * Running `npm run loadtest` as its users do, as a child process, for the tests: its exit code,
 * what it printed, and the JSON report it wrote.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LoadReport } from "../../loadtest/main.ts";

export const LOADTEST_MAIN = fileURLToPath(new URL("../../loadtest/main.ts", import.meta.url));

export interface LoadtestRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The report it wrote with --json (the run is given one in a fresh directory). */
  readonly report: LoadReport | undefined;
}

/** Runs the load tester with `args` plus `--json` to a fresh file, and waits for it to end. */
export async function runLoadtest(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<LoadtestRun> {
  const json = join(mkdtempSync(join(tmpdir(), "locus-lt-")), "report.json");
  const child = spawn(process.execPath, [LOADTEST_MAIN, ...args, "--json", json], { stdio: ["ignore", "pipe", "pipe"], env });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  let report: LoadReport | undefined;
  try {
    report = JSON.parse(readFileSync(json, "utf8")) as LoadReport;
  } catch {
    report = undefined;
  }
  return { code, stdout, stderr, report };
}
