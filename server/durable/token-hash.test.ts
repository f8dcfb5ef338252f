import { describe, expect, it } from "vitest";
import { TOKEN_HASH_PATTERN, tokenHasher } from "./token-hash.ts";

describe("tokenHasher", () => {
  it("gives every node that shares the admin token the same hash, and nothing that shows the token", () => {
    const a = tokenHasher("admin-token-0123456789");
    const b = tokenHasher("admin-token-0123456789");
    const hash = a("Xk3_9aQ-z");
    expect(hash).toMatch(TOKEN_HASH_PATTERN);
    expect(b("Xk3_9aQ-z")).toBe(hash);
    expect(hash).not.toContain("Xk3_9aQ-z");
    expect(a("Xk3_9aQ-y")).not.toBe(hash);
  });

  it("gives another cluster, or a rotated admin token, other hashes", () => {
    expect(tokenHasher("admin-token-0123456789")("tok")).not.toBe(tokenHasher("admin-token-9876543210")("tok"));
    expect(tokenHasher(undefined)("tok")).not.toBe(tokenHasher(undefined)("tok"));
  });
});
