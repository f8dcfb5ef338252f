import { describe, expect, it } from "vitest";
import { mergeBenchmarks, sectionMarker, sectionsOf } from "./bench-document.ts";

const ORDER = ["capacity", "gateway", "feel"];

describe("BENCHMARKS.md sections", () => {
  const full = mergeBenchmarks(undefined, "# Locus benchmarks\n\nintro", ORDER, new Map([
    ["capacity", "## Players per core\n\nold capacity\n"],
    ["gateway", "## Gateway cost\n\nold gateway\n"],
  ]));

  it("writes each section after its marker, in order", () => {
    expect(full).toBe(`# Locus benchmarks\n\nintro\n\n${sectionMarker("capacity")}\n## Players per core\n\nold capacity\n\n${sectionMarker("gateway")}\n## Gateway cost\n\nold gateway\n`);
    expect([...sectionsOf(full).keys()]).toEqual(["capacity", "gateway"]);
  });

  it("a run of some sections replaces those and keeps the others", () => {
    const next = mergeBenchmarks(full, "# Locus benchmarks\n\nnew intro", ORDER, new Map([["feel", "## Feel\n\nfeel figures\n"], ["capacity", "## Players per core\n\nnew capacity\n"]]));
    const sections = sectionsOf(next);
    expect([...sections.keys()]).toEqual(["capacity", "gateway", "feel"]);
    expect(sections.get("capacity")).toContain("new capacity");
    expect(sections.get("gateway")).toContain("old gateway");
    expect(next).toContain("new intro");
    expect(next).not.toContain("old capacity");
  });
});
