/**
 * Flag parsing shared by the command-line tools: every flag is checked, and a bad one ends the
 * program with a message saying what was expected and the list of flags (exit code 2).
 */
import { parseArgs } from "node:util";

export type FlagSpec = Record<string, { readonly type: "string" | "boolean"; readonly help: string; readonly multiple?: true }>;

export interface Flags<S extends FlagSpec> {
  readonly values: Record<keyof S & string, string | boolean | string[] | undefined>;
  readonly positionals: string[];
  /** A whole-number flag within [min, max], or `fallback` when absent. */
  int(name: keyof S & string, fallback: number, min: number, max: number): number;
  /** Every value of a flag that may be given more than once (`multiple`), in order; none when absent. */
  all(name: keyof S & string): string[];
  /** Ends the program with `problem` and the flag list. */
  fail(problem: string): never;
}

export interface FlagOptions {
  /** The command takes bare arguments (ops' `drain <node>`); elsewhere a stray one is refused, not ignored. */
  readonly positionals?: boolean;
  /** The arguments to parse, when not all of the command line's (a subcommand's own flags). */
  readonly argv?: readonly string[];
}

export function parseFlags<S extends FlagSpec>(program: string, spec: S, options: FlagOptions = {}): Flags<S> {
  const argv = [...(options.argv ?? process.argv.slice(2))];
  const usage = `flags:\n${Object.entries(spec)
    .map(([k, v]) => `  --${k}${v.type === "string" ? " <value>" : ""}${v.multiple ? " (repeatable)" : ""}  ${v.help}`)
    .join("\n")}\n`;
  const fail = (problem: string): never => {
    process.stderr.write(`${program}: ${problem}\n\n${usage}`);
    process.exit(2);
  };
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${program}\n\n${usage}`);
    process.exit(0);
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.entries(spec).map(([k, v]) => [k, { type: v.type, multiple: v.multiple === true }])),
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    return fail((err as Error).message);
  }
  if (!options.positionals && parsed.positionals.length > 0) fail(`unexpected argument ${JSON.stringify(parsed.positionals[0])}; every setting is a --flag`);
  const values = parsed.values as Record<keyof S & string, string | boolean | string[] | undefined>;
  return {
    values,
    positionals: parsed.positionals,
    fail,
    all(name) {
      const value = values[name];
      return Array.isArray(value) ? value : typeof value === "string" ? [value] : [];
    },
    int(name, fallback, min, max) {
      const value = values[name];
      if (value === undefined) return fallback;
      const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : Number.NaN;
      if (!Number.isSafeInteger(n) || n < min || n > max) fail(`--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
      return n;
    },
  };
}

/** A plain-text table with padded columns, for terminals. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const table = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...table.map((r) => (r[c] ?? "").length)));
  return `${table.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd()).join("\n")}\n`;
}
