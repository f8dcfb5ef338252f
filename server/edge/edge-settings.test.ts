import { describe, expect, it } from "vitest";
import { EnvReader } from "../config.ts";
import { readEdgeSettings } from "./edge-settings.ts";

function read(env: Record<string, string>) {
  const problems: string[] = [];
  const settings = readEdgeSettings(new EnvReader(env, problems), problems);
  return { settings, problems };
}

describe("edge settings", () => {
  it("uses the documented defaults: loopback trusted, nobody exempt", () => {
    const { settings, problems } = read({});
    expect(problems).toEqual([]);
    expect(settings).toMatchObject({ maxBodyBytes: 8192, headersTimeoutMs: 10_000, requestTimeoutMs: 15_000, maxSockets: 10_000, maxSocketsPerIp: 256, joinsPerIpPerSecond: 10, joinBurstPerIp: 30 });
    expect(settings.trustedProxies.has("127.0.0.1")).toBe(true);
    expect(settings.trustedProxies.has("::1")).toBe(true);
    expect(settings.trustedProxies.has("127.0.0.2")).toBe(false);
    expect(settings.limitExemptIps.has("127.0.0.1")).toBe(false);
  });

  it("reads address lists, and none for no trusted proxy at all", () => {
    const { settings } = read({ TRUSTED_PROXIES: "none", LIMIT_EXEMPT_IPS: "10.0.0.0/8, 2001:db8::/32" });
    expect(settings.trustedProxies.has("127.0.0.1")).toBe(false);
    expect(settings.limitExemptIps.has("10.1.2.3")).toBe(true);
    expect(settings.limitExemptIps.has("2001:db8::5")).toBe(true);
  });

  it("names every bad variable, and a headers timeout longer than the request's", () => {
    const { problems } = read({ MAX_BODY_BYTES: "10", TRUSTED_PROXIES: "gateway.local", HEADERS_TIMEOUT_MS: "20000", REQUEST_TIMEOUT_MS: "5000", MAX_SOCKETS_PER_IP: "0" });
    expect(problems).toEqual([
      'MAX_BODY_BYTES="10": expected a whole number from 256 to 1048576',
      'MAX_SOCKETS_PER_IP="0": expected a whole number from 1 to 1000000',
      'TRUSTED_PROXIES="gateway.local": "gateway.local" is not an IP address or a CIDR block like 10.0.0.0/8',
      "HEADERS_TIMEOUT_MS (20000) cannot exceed REQUEST_TIMEOUT_MS (5000): the headers are part of the request",
    ]);
  });
});
