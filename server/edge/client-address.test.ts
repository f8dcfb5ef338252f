import { describe, expect, it } from "vitest";
import { AddressList, appendForwardedFor, limitKey, normalizeAddress, resolveClientAddress } from "./client-address.ts";

function list(text: string): AddressList {
  const parsed = AddressList.parse(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

describe("normalizeAddress", () => {
  it("keeps IPv4 and lowercases IPv6", () => {
    expect(normalizeAddress("203.0.113.7")).toBe("203.0.113.7");
    expect(normalizeAddress(" 2001:DB8::1 ")).toBe("2001:db8::1");
  });
  it("turns an IPv4-mapped IPv6 address into its IPv4 form, dotted or hexadecimal", () => {
    expect(normalizeAddress("::ffff:127.0.0.1")).toBe("127.0.0.1");
    expect(normalizeAddress("::FFFF:7f00:2")).toBe("127.0.0.2");
  });
  it("drops a port and brackets", () => {
    expect(normalizeAddress("198.51.100.4:51234")).toBe("198.51.100.4");
    expect(normalizeAddress("[2001:db8::5]:443")).toBe("2001:db8::5");
    expect(normalizeAddress("[::ffff:10.1.2.3]")).toBe("10.1.2.3");
  });
  it("refuses what is not an address", () => {
    for (const bad of ["", "unknown", "256.1.1.1", "1.2.3", "2001:db8::g", "example.com", "1.2.3.4/8"]) {
      expect(normalizeAddress(bad), bad).toBeUndefined();
    }
  });
});

describe("AddressList", () => {
  it("matches single addresses and CIDR blocks of both families", () => {
    const l = list("127.0.0.1, ::1 10.0.0.0/8,2001:db8:aa::/48");
    expect(l.has("127.0.0.1")).toBe(true);
    expect(l.has("127.0.0.2")).toBe(false);
    expect(l.has("::1")).toBe(true);
    expect(l.has("10.255.3.4")).toBe(true);
    expect(l.has("11.0.0.1")).toBe(false);
    expect(l.has("2001:db8:aa:ffff::9")).toBe(true);
    expect(l.has("2001:db8:ab::9")).toBe(false);
  });
  it("matches an IPv4 block given in mapped form", () => {
    expect(list("::ffff:192.168.0.0/16").has("192.168.4.4")).toBe(true);
  });
  it("is empty for an empty text or none", () => {
    expect(list("").has("127.0.0.1")).toBe(false);
    expect(list("none").has("127.0.0.1")).toBe(false);
  });
  it("names the entry it cannot read", () => {
    expect(AddressList.parse("10.0.0.1, 10.0.0.0/33")).toEqual({ ok: false, error: expect.stringContaining('"10.0.0.0/33"') });
    expect(AddressList.parse("localhost")).toEqual({ ok: false, error: expect.stringContaining('"localhost"') });
    expect(AddressList.parse("10.0.0.0/8/1")).toEqual({ ok: false, error: expect.stringContaining("not an IP address") });
  });
});

describe("resolveClientAddress", () => {
  const trusted = list("127.0.0.1, 10.0.0.0/8");

  it("is the peer when the peer is not a trusted proxy, whatever X-Forwarded-For says", () => {
    expect(resolveClientAddress("203.0.113.9", "1.1.1.1", trusted)).toBe("203.0.113.9");
  });
  it("is the peer when a trusted proxy forwards nothing", () => {
    expect(resolveClientAddress("127.0.0.1", undefined, trusted)).toBe("127.0.0.1");
  });
  it("is the address the nearest untrusted hop was seen from, read from the right", () => {
    expect(resolveClientAddress("127.0.0.1", "198.51.100.4", trusted)).toBe("198.51.100.4");
    // client → load balancer 10.0.0.5 → gateway → node
    expect(resolveClientAddress("127.0.0.1", "198.51.100.4, 10.0.0.5", trusted)).toBe("198.51.100.4");
  });
  it("ignores what a client wrote itself to the left of what the proxies appended", () => {
    expect(resolveClientAddress("127.0.0.1", "6.6.6.6, 10.9.9.9, 198.51.100.4", trusted)).toBe("198.51.100.4");
  });
  it("reads IPv6 and mapped hops", () => {
    expect(resolveClientAddress("127.0.0.1", "2001:db8::7", trusted)).toBe("2001:db8::7");
    expect(resolveClientAddress("127.0.0.1", "::ffff:198.51.100.4", trusted)).toBe("198.51.100.4");
  });
  it("stops at the last trusted proxy when a hop is garbage", () => {
    expect(resolveClientAddress("127.0.0.1", "198.51.100.4, nonsense", trusted)).toBe("127.0.0.1");
    expect(resolveClientAddress("127.0.0.1", "nonsense, 10.0.0.5", trusted)).toBe("10.0.0.5");
  });
  it("is the leftmost hop when every hop is trusted", () => {
    expect(resolveClientAddress("127.0.0.1", "10.0.0.3, 10.0.0.5", trusted)).toBe("10.0.0.3");
  });
});

describe("limitKey", () => {
  it("counts an IPv4 client by its address and an IPv6 client by its /64", () => {
    expect(limitKey("198.51.100.4")).toBe("198.51.100.4");
    expect(limitKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(limitKey("2001:db8:1:2:bbbb:cccc:dddd:eeee")).toBe("2001:db8:1:2::/64");
    expect(limitKey("::1")).toBe("0:0:0:0::/64");
  });
});

describe("appendForwardedFor", () => {
  it("appends the peer to what came in", () => {
    expect(appendForwardedFor(undefined, "198.51.100.4")).toBe("198.51.100.4");
    expect(appendForwardedFor("6.6.6.6", "198.51.100.4")).toBe("6.6.6.6, 198.51.100.4");
  });
});
