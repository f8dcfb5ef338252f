import { describe, expect, it } from "vitest";

describe("runtime", () => {
  it("runs on the Node 22 that the project pins, not the machine's own", () => {
    expect(process.versions.node.split(".")[0]).toBe("22");
  });
});
