/**
 * What each part of Locus may load at run time, checked on the static imports (`import type` is
 * erased and loads nothing; an `import { type X }` still loads its module). A rule names the files
 * it covers and what none of them may reach, directly or through anything they import: a
 * project path or a package, as a glob (`*` within one path segment, `**` across segments).
 * A new layering rule is one more row in RULES.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

interface Rule {
  /** Why the rule holds, as the failure will say. */
  readonly why: string;
  /** The project files the rule covers (test files never are). */
  readonly from: string;
  /** Project paths and package names none of them may reach. */
  readonly never: readonly string[];
}

const RULES: readonly Rule[] = [
  {
    why: "the gateway routes sockets and requests: it loads no Colyseus and no part of a node",
    from: "server/gateway/main.ts",
    never: ["@colyseus/*", "server/cluster/cluster-mode.ts", "server/cluster/cluster-host.ts", "server/rooms/**", "server/colyseus-internals.ts"],
  },
  {
    why: "the gateway's data plane carries sockets where the gateway says: it reads no Redis and decides no route",
    from: "server/gateway/haproxy*.ts",
    never: ["ioredis", "server/cluster/**", "server/gateway/gateway.ts", "server/gateway/room-owners.ts"],
  },
  {
    why: "ownership is Redis and nothing else: gateways and the ops CLI read it",
    from: "server/cluster/ownership.ts",
    never: ["@colyseus/*", "server/rooms/**", "server/game/**", "server/games/**"],
  },
  {
    why: "the ops CLI talks to Redis and to the nodes' admin API, and runs no room",
    from: "server/ops/ops.ts",
    never: ["@colyseus/core", "server/cluster/cluster-mode.ts", "server/cluster/cluster-host.ts", "server/rooms/**"],
  },
  {
    why: "reaching Redis is settings and ioredis: the gateway, the ops CLI and the load tester open their connections with it",
    from: "server/cluster/redis-endpoint.ts",
    never: ["@colyseus/*", "server/rooms/**", "server/cluster/ownership.ts", "server/cluster/cluster-mode.ts"],
  },
  {
    why: "a paused room is decided on the node's own renewals: the lapse policy talks to no Redis",
    from: "server/cluster/lease-lapse.ts",
    never: ["ioredis", "@colyseus/*"],
  },
  {
    why: "the durable-room layer is game-agnostic: any game extends it, and it loads none",
    from: "server/durable/**",
    never: ["server/games/**", "server/game/**", "server/rooms/arena-room.ts", "shared/schema.ts", "shared/reversi/**", "ioredis", "server/cluster/**"],
  },
  {
    why: "a game needs no cluster code and no Redis: the host keeps it alive",
    from: "server/games/**",
    never: ["ioredis", "server/cluster/**"],
  },
  {
    why: "the loop-stall test hook is installed by the node's entry point alone, from its settings: nothing a node serves can reach it",
    from: "server/node.ts",
    never: ["server/loop-stall.ts"],
  },
  {
    why: "a simulated node's Redis traffic is the cluster modules' alone, over synthetic rooms: no game runs in it",
    from: "loadtest/bench/simulated-node.ts",
    never: ["server/rooms/**", "server/game/**", "server/games/**"],
  },
];

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BUILTINS = new Set(builtinModules);

/** A project file (relative path) or a package (its name). */
type Module = string;

/** The modules one file loads when it runs. */
function importsOf(file: Module): Module[] {
  const source = readFileSync(join(ROOT, file), "utf8");
  const found: Module[] = [];
  // Every import and re-export statement opens a line and ends at its first semicolon.
  for (const start of source.matchAll(/^[ \t]*(?:import|export)\b/gm)) {
    const end = source.indexOf(";", start.index);
    const statement = /^\s*(import|export)\s+(type\s+)?(?:[\s\S]*?\bfrom\s*)?["']([^"']+)["']\s*$/.exec(source.slice(start.index, end < 0 ? undefined : end));
    if (!statement || statement[2]) continue;
    const specifier = statement[3]!;
    if (specifier.startsWith(".")) {
      found.push(relative(ROOT, resolve(ROOT, dirname(file), specifier)));
    } else if (!specifier.startsWith("node:") && !BUILTINS.has(specifier)) {
      const parts = specifier.split("/");
      found.push(specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!);
    }
  }
  return found;
}

const isProjectFile = (m: Module) => m.endsWith(".ts") && existsSync(join(ROOT, m));

function globToRegExp(glob: string): RegExp {
  const pattern = glob
    .split("**")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", "[^/]*"))
    .join(".*");
  return new RegExp(`^${pattern}$`);
}

/**
 * The first forbidden module the file reaches, as the chain of imports that leads there, or
 * undefined when it reaches none. Breadth first, so the chain shown is a shortest one.
 */
function forbiddenChain(file: Module, never: readonly string[]): Module[] | undefined {
  const forbidden = never.map(globToRegExp);
  const cameFrom = new Map<Module, Module | undefined>([[file, undefined]]);
  const queue: Module[] = [file];
  for (let m = queue.shift(); m !== undefined; m = queue.shift()) {
    if (m !== file && forbidden.some((re) => re.test(m))) {
      const chain: Module[] = [];
      for (let at: Module | undefined = m; at !== undefined; at = cameFrom.get(at)) chain.unshift(at);
      return chain;
    }
    if (!isProjectFile(m)) continue;
    for (const next of importsOf(m)) {
      if (cameFrom.has(next)) continue;
      cameFrom.set(next, m);
      queue.push(next);
    }
  }
  return undefined;
}

function projectFiles(dir = "."): Module[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" || entry.name.startsWith(".") || entry.name === "dist" ? [] : projectFiles(path);
    return path.endsWith(".ts") && !path.endsWith(".test.ts") ? [path] : [];
  });
}

describe("import graph", () => {
  const files = projectFiles();

  for (const rule of RULES) {
    it(`${rule.from} never reaches ${rule.never.join(", ")}`, () => {
      const covered = files.filter((f) => globToRegExp(rule.from).test(f));
      expect(covered.length, `no file matches ${rule.from}`).toBeGreaterThan(0);
      const broken = covered.flatMap((f) => {
        const chain = forbiddenChain(f, rule.never);
        return chain ? [`${chain.join(" → ")}`] : [];
      });
      expect(broken, rule.why).toEqual([]);
    });
  }

  it("follows imports across files to packages, and past `import { type X }` but not `import type`", () => {
    expect(forbiddenChain("server/node.ts", ["@colyseus/core"])).toEqual(["server/node.ts", "@colyseus/core"]);
    expect(forbiddenChain("server/gateway/main.ts", ["ioredis"])?.at(-1)).toBe("ioredis");
    // room-host.ts is reached from cluster-host.ts only by `import type`.
    expect(forbiddenChain("server/cluster/cluster-host.ts", ["server/rooms/room-host.ts"])).toBeUndefined();
    expect(forbiddenChain("server/cluster/cluster-mode.ts", ["server/cluster/cluster-host.ts"])).toEqual(["server/cluster/cluster-mode.ts", "server/cluster/cluster-host.ts"]);
  });
});
