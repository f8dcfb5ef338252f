import { describe, expect, it } from "vitest";
import { SocketLimits } from "./socket-limits.ts";

describe("SocketLimits", () => {
  it("refuses a connection past the total, and counts nothing for it", () => {
    const limits = new SocketLimits(2, 10);
    expect(limits.open("a", true)).toBeUndefined();
    expect(limits.open(undefined, true)).toBeUndefined();
    expect(limits.open("b", true)).toBe("sockets_total");
    expect(limits.sockets).toBe(2);
    limits.close(undefined, true);
    expect(limits.open("b", true)).toBeUndefined();
  });

  it("refuses an address past its own limit while others still get in", () => {
    const limits = new SocketLimits(100, 2);
    expect(limits.open("a", true)).toBeUndefined();
    expect(limits.open("a", true)).toBeUndefined();
    expect(limits.open("a", true)).toBe("sockets_per_ip");
    expect(limits.open("b", true)).toBeUndefined();
    limits.close("a", true);
    expect(limits.open("a", true)).toBeUndefined();
  });

  it("counts a proxied websocket against its client only, not again in the total", () => {
    const limits = new SocketLimits(1, 1);
    expect(limits.open(undefined, true)).toBeUndefined();
    expect(limits.open("client", false)).toBeUndefined();
    expect(limits.sockets).toBe(1);
    expect(limits.open("client", false)).toBe("sockets_per_ip");
  });

  it("leaves no entry for an address whose sockets all closed", () => {
    const limits = new SocketLimits(10_000, 10);
    for (let i = 0; i < 1000; i++) limits.open(`10.0.${i >> 8}.${i & 255}`, true);
    expect(limits.addresses).toBe(1000);
    for (let i = 0; i < 1000; i++) limits.close(`10.0.${i >> 8}.${i & 255}`, true);
    expect(limits.addresses).toBe(0);
    expect(limits.sockets).toBe(0);
  });
});
