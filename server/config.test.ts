import { describe, expect, it } from "vitest";
import { ConfigError, loadNodeConfig } from "./config.ts";

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
});
