import { describe, expect, it } from "vitest";
import { redactUrl } from "./redact.ts";

describe("redactUrl", () => {
  it("masks the password and keeps what locates the server", () => {
    expect(redactUrl("redis://user:s3cret@10.0.0.5:6379/2")).toBe("redis://user:***@10.0.0.5:6379/2");
    expect(redactUrl("rediss://:s3cret@cache.internal:6380")).toBe("rediss://:***@cache.internal:6380");
  });

  it("masks a bare user-info, which some clients read as the password", () => {
    expect(redactUrl("redis://s3cret@cache")).toBe("redis://***@cache");
  });

  it("masks a password with an unescaped @ in it whole, as URL parsers read it", () => {
    expect(redactUrl("redis://u:p@ss@cache:6379")).toBe("redis://u:***@cache:6379");
  });

  it("finds URLs inside a longer message, several at once, and leaves the rest alone", () => {
    const text = 'cannot reach Redis at redis://a:p1@h1:1 or "rediss://b:p:2@h2" (timeout)';
    expect(redactUrl(text)).toBe('cannot reach Redis at redis://a:***@h1:1 or "rediss://b:***@h2" (timeout)');
    expect(redactUrl("http://127.0.0.1:2567/readyz")).toBe("http://127.0.0.1:2567/readyz");
  });
});
