import { Counter, Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AuthFailures, OTHER_ADDRESSES } from "./auth-failures.ts";

function setup(maxAddresses = 100) {
  const lines: Record<string, unknown>[] = [];
  const log = { warn: (fields: Record<string, unknown>) => lines.push(fields) } as never;
  const counter = new Counter({ name: "failures_total", help: "x", registers: [new Registry()] });
  return { lines, counter, failures: new AuthFailures({ log, counter, windowMs: 10_000, maxAddresses }) };
}

describe("failed admin authentications", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("counts every one and logs an address once per window, with how many the window saw", async () => {
    const { lines, counter, failures } = setup();
    for (let i = 0; i < 500; i++) failures.record("10.0.0.9", "/admin/drain?token=secret", "wrong bearer token");
    expect((await counter.get()).values[0]!.value).toBe(500);
    expect(lines).toEqual([{ event: "admin_auth_failed", remote: "10.0.0.9", path: "/admin/drain", count: 1, reason: "wrong bearer token", windowMs: 10_000 }]);
    vi.advanceTimersByTime(10_000);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ remote: "10.0.0.9", count: 499 });
    // Still failing in the next window: one more line; then quiet windows log nothing more.
    failures.record("10.0.0.9", "/admin/status", "no bearer token");
    vi.advanceTimersByTime(30_000);
    expect(lines.slice(2)).toEqual([expect.objectContaining({ count: 1, path: "/admin/status", reason: "no bearer token" })]);
    failures.record("10.0.0.9", "/admin/status", "no bearer token");
    expect(lines).toHaveLength(4);
    expect(JSON.stringify(lines)).not.toContain("secret");
  });

  it("keeps its memory bounded: addresses past the limit share one line", () => {
    const { lines, failures } = setup(3);
    for (let i = 0; i < 1000; i++) failures.record(`10.0.${i >> 8}.${i & 255}`, "/admin/drain", "wrong bearer token");
    expect(lines.map((l) => l.remote)).toEqual(["10.0.0.0", "10.0.0.1", "10.0.0.2", OTHER_ADDRESSES]);
    vi.advanceTimersByTime(10_000);
    expect(lines.at(-1)).toMatchObject({ remote: OTHER_ADDRESSES, count: 996 });
  });
});
