import { describe, expect, it } from "vitest";
import { parseOwner } from "./ownership.ts";

describe("parseOwner", () => {
  it("reads what the claim script writes", () => {
    expect(parseOwner("n1 7")).toEqual({ nodeId: "n1", epoch: 7 });
    expect(parseOwner(`${"a".repeat(64)} 999999999999999`)).toEqual({ nodeId: "a".repeat(64), epoch: 999_999_999_999_999 });
  });

  it("refuses anything else as no owner", () => {
    for (const junk of ["", "n1", "n1 ", " 7", "n1 0", "n1 07", "n1 -1", "n1 1.5", "n1 7 x", "n 1\n", "has space 3", "n/1 3", `${"a".repeat(65)} 1`, "n1 1234567890123456", "constructor"]) {
      expect(parseOwner(junk), JSON.stringify(junk)).toBeUndefined();
    }
  });
});
