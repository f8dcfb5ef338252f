/**
 * Failed admin authentications, made visible without letting a brute force flood the log: every
 * failure is counted (`locus_admin_auth_failures_total`) and logged as `admin_auth_failed`
 * through the process's RepeatLog (an address's first failure at once, the ones that follow
 * summed once per window), with the path but never its query string nor the token sent.
 */
import type { Counter } from "prom-client";
import type { RepeatLog } from "../repeat-log.ts";

export class AuthFailures {
  private readonly lines: RepeatLog;
  private readonly counter: Counter;

  constructor(lines: RepeatLog, counter: Counter) {
    this.lines = lines;
    this.counter = counter;
  }

  record(remote: string, url: string, reason: string): void {
    this.counter.inc();
    const path = url.split("?")[0]!.slice(0, 200);
    this.lines.report({ event: "admin_auth_failed", reason, offender: remote, path }, `admin authentication failed from ${remote} (${path}): ${reason}`);
  }
}
