/**
 * BENCHMARKS.md as sections: each opens with a marker naming it, so a run of some sections
 * (`--only`) replaces those and keeps the others as the file had them.
 */

const MARKER = /^<!-- bench section: ([a-z-]+) -->$/;

export function sectionMarker(name: string): string {
  return `<!-- bench section: ${name} -->`;
}

/** The sections a BENCHMARKS.md holds, by name, each with its marker line. */
export function sectionsOf(markdown: string): Map<string, string> {
  const sections = new Map<string, string>();
  let name: string | undefined;
  let lines: string[] = [];
  const close = () => {
    if (name !== undefined) sections.set(name, `${lines.join("\n").trimEnd()}\n`);
  };
  for (const line of markdown.split("\n")) {
    const m = MARKER.exec(line);
    if (m) {
      close();
      name = m[1]!;
      lines = [line];
    } else if (name !== undefined) {
      lines.push(line);
    }
  }
  close();
  return sections;
}

/**
 * The whole document: the preamble, then every section of `order` that either ran now (`fresh`,
 * without its marker) or was in the previous document, in that order.
 */
export function mergeBenchmarks(previous: string | undefined, preamble: string, order: readonly string[], fresh: ReadonlyMap<string, string>): string {
  const kept = previous === undefined ? new Map<string, string>() : sectionsOf(previous);
  const parts = [preamble.trimEnd(), ""];
  for (const name of order) {
    const now = fresh.get(name);
    if (now !== undefined) parts.push(`${sectionMarker(name)}\n${now.trimEnd()}\n`);
    else if (kept.has(name)) parts.push(kept.get(name)!);
  }
  return `${parts.join("\n").trimEnd()}\n`;
}
