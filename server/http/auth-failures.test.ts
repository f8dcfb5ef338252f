import { pino } from "pino";
import { Counter, Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RepeatLog } from "../repeat-log.ts";
import { AuthFailures } from "./auth-failures.ts";

describe("failed admin authentications", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("counts every one and logs an address's first at once, without the query string or token", async () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: "info" }, { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) });
    const counter = new Counter({ name: "failures_total", help: "x", registers: [new Registry()] });
    const failures = new AuthFailures(new RepeatLog({ log, windowMs: 10_000 }), counter);
    for (let i = 0; i < 500; i++) failures.record("10.0.0.9", "/admin/drain?token=secret", "wrong bearer token");
    expect((await counter.get()).values[0]!.value).toBe(500);
    expect(lines).toEqual([expect.objectContaining({ event: "admin_auth_failed", offender: "10.0.0.9", path: "/admin/drain", count: 1, reason: "wrong bearer token" })]);
    vi.advanceTimersByTime(10_000);
    expect(lines[1]).toMatchObject({ offender: "10.0.0.9", count: 499 });
    expect(JSON.stringify(lines)).not.toContain("secret");
  });
});
