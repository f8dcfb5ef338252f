import { describe, expect, it } from "vitest";
import { ConfigError, loadGatewayConfig, loadNodeConfig } from "./config.ts";

const defaults = { staticDir: "/srv/game" };

describe("node config", () => {
  it("uses the documented defaults", () => {
    const c = loadNodeConfig({}, defaults);
    expect(c).toMatchObject({ port: 2567, host: "0.0.0.0", tickHz: 30, maxPlayers: 16, logLevel: "info", staticDir: "/srv/game" });
    expect(c.nodeId).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
  });

  it("reads every variable", () => {
    const c = loadNodeConfig({ PORT: "0", HOST: "127.0.0.1", NODE_ID: "n-1", TICK_HZ: "60", MAX_PLAYERS: "8", LOG_LEVEL: "warn" }, defaults);
    expect(c).toMatchObject({ port: 0, host: "127.0.0.1", nodeId: "n-1", tickHz: 60, maxPlayers: 8, logLevel: "warn" });
  });

  it("reads REVERSI_CLOCK_MS, five minutes by default, from a second to an hour", () => {
    expect(loadNodeConfig({}, defaults).reversiClockMs).toBe(300_000);
    expect(loadNodeConfig({ REVERSI_CLOCK_MS: "60000" }, defaults).reversiClockMs).toBe(60_000);
    expect(() => loadNodeConfig({ REVERSI_CLOCK_MS: "999" }, defaults)).toThrow('REVERSI_CLOCK_MS="999": expected a whole number from 1000 to 3600000');
    expect(() => loadNodeConfig({ REVERSI_CLOCK_MS: "5m" }, defaults)).toThrow(ConfigError);
  });

  it("reads ROOM_LEASE_MS, 1.5 s by default, and leaves the loop-stall test hook off unless STALL_ON_SIGUSR2_MS is set", () => {
    expect(loadNodeConfig({}, defaults)).toMatchObject({ roomLeaseMs: 1500, stallOnSigusr2Ms: 0 });
    expect(loadNodeConfig({ ROOM_LEASE_MS: "5000", STALL_ON_SIGUSR2_MS: "500" }, defaults)).toMatchObject({ roomLeaseMs: 5000, stallOnSigusr2Ms: 500 });
    expect(() => loadNodeConfig({ ROOM_LEASE_MS: "999" }, defaults)).toThrow('ROOM_LEASE_MS="999": expected a whole number from 1000 to 60000');
    expect(() => loadNodeConfig({ STALL_ON_SIGUSR2_MS: "-1" }, defaults)).toThrow('STALL_ON_SIGUSR2_MS="-1": expected a whole number from 0 to 60000');
  });

  it("names every bad variable at once, with what it expects", () => {
    let error: unknown;
    try {
      loadNodeConfig({ PORT: "70000", TICK_HZ: "fast", MAX_PLAYERS: "1.5", LOG_LEVEL: "loud", NODE_ID: "has space" }, defaults);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('PORT="70000": expected a whole number from 0 to 65535');
    expect(message).toContain('TICK_HZ="fast"');
    expect(message).toContain('MAX_PLAYERS="1.5"');
    expect(message).toContain('LOG_LEVEL="loud": expected one of fatal, error, warn, info, debug, trace, silent');
    expect(message).toContain('NODE_ID="has space"');
  });

  it("sizes the frame budget from the tick rate unless MAX_FRAMES_PER_SECOND is set, never below one input per tick and pings", () => {
    expect(loadNodeConfig({}, defaults).maxFramesPerSecond).toBe(130);
    expect(loadNodeConfig({ TICK_HZ: "120" }, defaults).maxFramesPerSecond).toBe(490);
    expect(loadNodeConfig({ MAX_FRAMES_PER_SECOND: "500" }, defaults).maxFramesPerSecond).toBe(500);
    expect(() => loadNodeConfig({ TICK_HZ: "60", MAX_FRAMES_PER_SECOND: "60" }, defaults)).toThrow('MAX_FRAMES_PER_SECOND="60": expected a whole number from 70 to 100000');
  });
});

describe("operator listener and CORS settings", () => {
  const problemsOf = (env: Record<string, string>): string => {
    try {
      loadNodeConfig(env, defaults);
    } catch (e) {
      return (e as Error).message;
    }
    return "";
  };

  it("put the operator listener on loopback, 10000 above the game port, and allow no foreign origin by default", () => {
    expect(loadNodeConfig({}, defaults)).toMatchObject({ adminPort: 12567, adminHost: "127.0.0.1", nodeAdminAddress: undefined, edge: { allowedOrigins: [] } });
    expect(loadNodeConfig({ PORT: "3000" }, defaults).adminPort).toBe(13000);
    expect(loadNodeConfig({ PORT: "0" }, defaults).adminPort).toBe(0);
  });

  it("advertise no public websocket address unless PUBLIC_URL names one", () => {
    expect(loadNodeConfig({}, defaults).publicUrl).toBeUndefined();
    expect(loadNodeConfig({ PUBLIC_URL: "wss://n1.game.example.com:8443" }, defaults).publicUrl).toBe("wss://n1.game.example.com:8443");
    expect(problemsOf({ PUBLIC_URL: "http://n1.example.com" })).toContain('PUBLIC_URL="http://n1.example.com": expected a ws:// or wss:// URL with no path');
    expect(problemsOf({ PUBLIC_URL: "wss://n1.example.com/game" })).toContain("PUBLIC_URL");
  });

  it("read ADMIN_PORT, ADMIN_HOST, NODE_ADMIN_ADDRESS and ALLOWED_ORIGINS, keeping origins as browsers send them", () => {
    const c = loadNodeConfig(
      { ADMIN_PORT: "9100", ADMIN_HOST: "0.0.0.0", NODE_ADMIN_ADDRESS: "http://10.0.0.5:9100", ALLOWED_ORIGINS: "https://Game.Example.com:443, http://localhost:5173" },
      defaults,
    );
    expect(c).toMatchObject({ adminPort: 9100, adminHost: "0.0.0.0", nodeAdminAddress: "http://10.0.0.5:9100" });
    expect(c.edge.allowedOrigins).toEqual(["https://game.example.com", "http://localhost:5173"]);
  });

  it("refuse an admin port out of range, equal to the game port, or left to a default past 65535", () => {
    expect(problemsOf({ ADMIN_PORT: "70000" })).toContain('ADMIN_PORT="70000": expected a whole number from 0 to 65535');
    expect(problemsOf({ PORT: "9000", ADMIN_PORT: "9000" })).toContain("ADMIN_PORT=9000: must differ from PORT");
    expect(problemsOf({ PORT: "60000" })).toContain("ADMIN_PORT is required with PORT=60000");
    expect(problemsOf({ PORT: "60000", ADMIN_PORT: "9100" })).toBe("");
  });

  it("refuse origins that are not http(s)://host[:port], naming them", () => {
    for (const bad of ["*", "game.example.com", "https://game.example.com/", "https://game.example.com/play", "ftp://x.example", "https://x.example:99999", "null"]) {
      expect(problemsOf({ ALLOWED_ORIGINS: `https://ok.example,${bad}` }), bad).toContain(`ALLOWED_ORIGINS: ${JSON.stringify(bad)} not allowed: expected http(s)://host[:port]`);
    }
    expect(problemsOf({ NODE_ADMIN_ADDRESS: "10.0.0.5:9100" })).toContain('NODE_ADMIN_ADDRESS="10.0.0.5:9100": expected an http:// URL with no path');
  });
});

describe("Redis settings", () => {
  const problemsOf = (env: Record<string, string>): string => {
    try {
      loadNodeConfig({ ADMIN_TOKEN: "an-admin-token-0123456789", ...env }, defaults);
    } catch (e) {
      return (e as Error).message;
    }
    return "";
  };

  it("reads REDIS_URL as before, with REDIS_PASSWORD beside it", () => {
    const c = loadNodeConfig({ REDIS_URL: "redis://10.0.0.9:6379", REDIS_PASSWORD: "s3cret-pass", ADMIN_TOKEN: "an-admin-token-0123456789" }, defaults);
    expect(c.redis).toEqual({ kind: "url", url: "redis://10.0.0.9:6379", password: "s3cret-pass", sentinelPassword: undefined, tls: false, ca: undefined });
    expect(loadNodeConfig({}, defaults).redis).toBeUndefined();
  });

  it("reads a Sentinel group: its host:port list, the master's name, both passwords and TLS", () => {
    const c = loadNodeConfig(
      { REDIS_SENTINELS: "10.0.0.1:26379, sentinel-b:26380,[::1]:26381", REDIS_SENTINEL_MASTER: "locus", REDIS_SENTINEL_PASSWORD: "sentinel-pass", REDIS_TLS: "1", ADMIN_TOKEN: "an-admin-token-0123456789" },
      defaults,
    );
    expect(c.redis).toEqual({
      kind: "sentinel",
      sentinels: [
        { host: "10.0.0.1", port: 26379 },
        { host: "sentinel-b", port: 26380 },
        { host: "::1", port: 26381 },
      ],
      masterName: "locus",
      password: undefined,
      sentinelPassword: "sentinel-pass",
      tls: true,
      ca: undefined,
    });
  });

  it("wants exactly one mode, and each variable where it belongs", () => {
    expect(problemsOf({ REDIS_URL: "redis://a:6379", REDIS_SENTINELS: "a:26379", REDIS_SENTINEL_MASTER: "m" })).toContain("REDIS_URL and REDIS_SENTINELS/REDIS_SENTINEL_MASTER are both set");
    expect(problemsOf({ REDIS_SENTINELS: "a:26379" })).toContain("REDIS_SENTINELS needs REDIS_SENTINEL_MASTER");
    expect(problemsOf({ REDIS_SENTINEL_MASTER: "m" })).toContain("REDIS_SENTINEL_MASTER needs REDIS_SENTINELS");
    expect(problemsOf({ REDIS_SENTINELS: "a:26379,b", REDIS_SENTINEL_MASTER: "m" })).toContain('REDIS_SENTINELS: "b" not allowed: expected host:port');
    expect(problemsOf({ REDIS_SENTINELS: "a:70000", REDIS_SENTINEL_MASTER: "m" })).toContain('"a:70000" not allowed');
    expect(problemsOf({ REDIS_SENTINELS: "a:26379", REDIS_SENTINEL_MASTER: "no spaces" })).toContain('REDIS_SENTINEL_MASTER="no spaces"');
    expect(problemsOf({ REDIS_URL: "redis://a:6379", REDIS_SENTINEL_PASSWORD: "x-pass" })).toContain("REDIS_SENTINEL_PASSWORD is for Sentinel mode");
    expect(problemsOf({ REDIS_PASSWORD: "lonely-pass" })).toContain("REDIS_PASSWORD is set, but no Redis is");
    expect(problemsOf({ REDIS_URL: "rediss://a:6379", REDIS_TLS: "0" })).toContain("REDIS_TLS=0 contradicts the rediss:// URL");
    expect(problemsOf({ REDIS_URL: "redis://a:6379", REDIS_CA_FILE: "/etc/hostname" })).toContain("REDIS_CA_FILE is set without TLS");
    expect(problemsOf({ REDIS_URL: "redis://a:6379", REDIS_TLS: "1", REDIS_CA_FILE: "/no/such/ca.pem" })).toContain('REDIS_CA_FILE="/no/such/ca.pem": cannot read it (ENOENT)');
    expect(problemsOf({ REDIS_SENTINELS: "a:26379", REDIS_SENTINEL_MASTER: "m" })).toBe("");
  });

  it("never shows a password: not REDIS_PASSWORD's, nor one given twice in REDIS_URL", () => {
    const bad = problemsOf({ REDIS_URL: "redis://:url-secret-1@a:6379", REDIS_PASSWORD: "env secret 2" });
    expect(bad).toContain("REDIS_PASSWORD (12 characters, not shown)");
    expect(bad).not.toContain("env secret 2");
    const twice = problemsOf({ REDIS_URL: "redis://:url-secret-1@a:6379", REDIS_PASSWORD: "env-secret-2" });
    expect(twice).toContain("REDIS_PASSWORD and a password in REDIS_URL are both set");
    expect(twice).not.toContain("url-secret-1");
    expect(twice).not.toContain("env-secret-2");
  });
});

describe("gateway config", () => {
  const redis = { REDIS_URL: "redis://127.0.0.1:6379" };

  it("carries sockets with HAProxy by default, or with its own process", () => {
    expect(loadGatewayConfig(redis).relay).toBe("haproxy");
    expect(loadGatewayConfig({ ...redis, GATEWAY_RELAY: "node" }).relay).toBe("node");
    expect(() => loadGatewayConfig({ ...redis, GATEWAY_RELAY: "nginx" })).toThrow(/GATEWAY_RELAY/);
  });

  it("needs a named port for HAProxy, which nobody could learn a free one of", () => {
    expect(() => loadGatewayConfig({ ...redis, PORT: "0", ADMIN_PORT: "9000" })).toThrow("PORT=0 needs GATEWAY_RELAY=node");
    expect(loadGatewayConfig({ ...redis, PORT: "0", ADMIN_PORT: "9000", GATEWAY_RELAY: "node" }).port).toBe(0);
  });
});
