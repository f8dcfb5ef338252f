import { describe, expect, it } from "vitest";
import { CorsPolicy } from "./cors.ts";

describe("CORS policy", () => {
  const policy = new CorsPolicy(["https://game.example.com"]);

  it("grants an allowed origin exactly its own origin, with credentials, never *", () => {
    const headers = policy.headers("https://game.example.com");
    expect(headers["Access-Control-Allow-Origin"]).toBe("https://game.example.com");
    expect(headers["Access-Control-Allow-Credentials"]).toBe("true");
    expect(headers.Vary).toBe("Origin");
  });

  it("grants nothing to a foreign origin, a look-alike, `null` or no origin", () => {
    for (const origin of ["https://evil.example", "https://game.example.com.evil.example", "http://game.example.com", "null", "", undefined, null]) {
      expect(policy.headers(origin), String(origin)).toEqual({});
    }
    expect(new CorsPolicy([]).headers("https://game.example.com")).toEqual({});
  });

  it("refuses a preflight from a foreign origin only", () => {
    const preflight = (origin: string) => ({ origin, "access-control-request-method": "POST" });
    expect(policy.refusesPreflight("OPTIONS", preflight("https://evil.example"))).toBe(true);
    expect(policy.refusesPreflight("OPTIONS", preflight("https://game.example.com"))).toBe(false);
    expect(policy.refusesPreflight("OPTIONS", { origin: "https://evil.example" })).toBe(false);
    expect(policy.refusesPreflight("POST", preflight("https://evil.example"))).toBe(false);
  });
});
