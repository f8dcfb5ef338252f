/**
 * Where a server's time and allocations go, from a V8 CPU profile or sampling heap profile: each
 * sample is put in the category of the innermost frame on its stack that names one (so the
 * schema encoder called from a patch is "patch encoding", and the socket write under it
 * "websocket send: socket write"), and what no frame names falls to its caller's category.
 */

export interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber?: number;
}

/** A `.cpuprofile`, as the inspector's Profiler.stop returns it. */
export interface CpuProfile {
  readonly nodes: readonly { readonly id: number; readonly callFrame: CallFrame; readonly children?: readonly number[] }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

/** A sampling heap profile, as HeapProfiler.stopSampling returns it. */
export interface HeapProfileNode {
  readonly callFrame: CallFrame;
  readonly selfSize: number;
  readonly id: number;
  readonly children: readonly HeapProfileNode[];
}
export interface HeapProfile {
  readonly head: HeapProfileNode;
}

/** The groups of the breakdown, in the order a table shows them. */
export const GROUPS = [
  "websocket receive",
  "edge frame gate",
  "input decoding",
  "step",
  "patch encoding",
  "websocket send",
  "room's own per-tick work",
  "Locus beside the loop",
  "metrics",
  "GC",
  "native, no JS on the stack",
  "other",
] as const;
export type Group = (typeof GROUPS)[number];

interface Rule {
  readonly category: string;
  readonly group: Group;
  readonly test: (f: CallFrame) => boolean;
  /** Names the frame only when its caller's category is in this group (a socket write under a patch, not under the Redis client). */
  readonly within?: Group;
}

const inFile = (...parts: string[]) => (f: CallFrame) => parts.some((p) => f.url.includes(p));
const named = (url: string, ...names: string[]) => (f: CallFrame) => f.url.includes(url) && names.includes(f.functionName);
const nativeNamed = (...names: string[]) => (f: CallFrame) => f.url === "" && names.includes(f.functionName);

/** Checked in order on each frame; the first that fits names the frame's category. */
const RULES: readonly Rule[] = [
  { category: "GC (main thread)", group: "GC", test: (f) => f.functionName === "(garbage collector)" },
  { category: "native: event loop, socket reads, timers", group: "native, no JS on the stack", test: (f) => f.functionName === "(program)" },
  { category: "idle", group: "other", test: (f) => f.functionName === "(idle)" },
  // The send path: per-client framing and the ws library, then the socket write under it.
  {
    category: "socket write (net, syscall)",
    group: "websocket send",
    within: "websocket send",
    test: (f) => nativeNamed("writev", "writeBuffer", "writeUtf8String", "writeLatin1String")(f) || (inFile("node:net", "node:internal/stream_base_commons", "node:internal/streams/writable")(f) && f.functionName !== "onStreamRead"),
  },
  { category: "ws sender", group: "websocket send", test: (f) => inFile("ws/lib/sender.js")(f) || named("ws/lib/websocket.js", "send")(f) },
  { category: "Colyseus per-client frame (TIMED header)", group: "websocket send", test: (f) => named("@colyseus/core", "buildTimedFrame", "sendClientFrame", "applyPatches")(f) || named("@colyseus/ws-transport", "raw")(f) },
  { category: "Locus one-buffer patch frames", group: "websocket send", test: inFile("server/durable/patch-frames.ts") },
  { category: "byte counting wrapper", group: "metrics", test: (f) => inFile("server/colyseus-internals.ts", "baseline/plain-room.ts")(f) && f.functionName.includes("raw") },
  { category: "schema encoder", group: "patch encoding", test: named("@colyseus/schema", "encode", "encodeAll", "discardChanges", "encodeChangeCb", "encodeValue", "encodePrimitiveType", "endEncode") },
  // The receive path.
  { category: "socket read (JS)", group: "websocket receive", test: (f) => f.functionName === "onStreamRead" || inFile("node:internal/streams/readable")(f) },
  { category: "ws receiver", group: "websocket receive", test: (f) => inFile("ws/lib/receiver.js", "ws/lib/buffer-util.js")(f) || named("ws/lib/websocket.js", "socketOnData", "receiverOnMessage", "receiverOnPing", "receiverOnPong")(f) },
  { category: "edge frame gate", group: "edge frame gate", test: inFile("server/edge/frame-gate.ts", "server/edge/frame-budget.ts", "server/edge/credit-bucket.ts", "server/edge/frame-policy.ts") },
  { category: "event emitter dispatch", group: "websocket receive", test: inFile("node:events") },
  { category: "Colyseus input decode and buffer", group: "input decoding", test: (f) => named("@colyseus/core", "_onMessage", "decodeReliable", "capture")(f) || inFile("@colyseus/schema/build/input")(f) },
  { category: "input sanitizer and guard", group: "input decoding", test: (f) => inFile("server/rooms/input-guard.ts")(f) || named("server/rooms/arena-room.ts", "sanitize")(f) },
  { category: "Locus durable layer (seat heard per frame, patch hook)", group: "room's own per-tick work", test: (f) => inFile("server/durable/durable-room.ts")(f) && f.functionName !== "broadcastPatch" },
  // The tick.
  { category: "simulation", group: "step", test: (f) => inFile("shared/physics.ts", "server/game/arena-world.ts")(f) },
  { category: "input feed (cadence, input buffer)", group: "step", test: (f) => inFile("server/rooms/input-cadence.ts", "@colyseus/core/build/input/InputBuffer")(f) || named("server/rooms/arena-room.ts", "nextStick")(f) },
  { category: "journal record", group: "room's own per-tick work", test: inFile("server/game/arena-journal.ts") },
  { category: "Locus tick", group: "room's own per-tick work", test: (f) => inFile("server/rooms/arena-room.ts", "server/rooms/tick-clock.ts", "server/colyseus-internals.ts", "baseline/plain-room.ts")(f) },
  { category: "prom-client", group: "metrics", test: inFile("prom-client", "server/metrics.ts", "server/tick-metrics.ts", "baseline/plain-server.ts") },
  { category: "cluster: checkpoints, journal flush, leases, Redis", group: "Locus beside the loop", test: inFile("server/cluster/", "server/durable/checkpoint.ts", "server/durable/journal.ts", "server/game/snapshot.ts", "ioredis", "redis-parser", "@colyseus/redis") },
  { category: "HTTP (matchmaking, scrapes)", group: "other", test: inFile("express", "node:_http", "@colyseus/better-call", "router", "node:internal/http") },
  { category: "logging", group: "other", test: inFile("pino") },
  { category: "timers", group: "other", test: inFile("node:internal/timers", "@colyseus/timer") },
];

export interface Category {
  readonly category: string;
  readonly group: Group;
}
const OTHER: Category = { category: "other", group: "other" };

function categoryOf(frame: CallFrame, parent: Category): Category {
  for (const rule of RULES) if ((rule.within === undefined || rule.within === parent.group) && rule.test(frame)) return rule;
  return parent;
}

export interface Breakdown {
  /** Per category: microseconds (CPU) or bytes (allocation). */
  readonly byCategory: Map<string, { readonly group: Group; amount: number }>;
  readonly byGroup: Map<Group, number>;
  /** The heaviest frames by their own amount: "function (file:line)". */
  readonly topFrames: { readonly frame: string; readonly category: string; readonly amount: number }[];
  readonly total: number;
}

function tally(entries: Iterable<{ frame: CallFrame; category: Category; amount: number }>): Breakdown {
  const byCategory = new Map<string, { group: Group; amount: number }>();
  const byGroup = new Map<Group, number>(GROUPS.map((g) => [g, 0]));
  const frames = new Map<string, { category: string; amount: number }>();
  let total = 0;
  for (const { frame, category, amount } of entries) {
    if (amount === 0 || category.category === "idle") continue;
    total += amount;
    const c = byCategory.get(category.category) ?? { group: category.group, amount: 0 };
    c.amount += amount;
    byCategory.set(category.category, c);
    byGroup.set(category.group, (byGroup.get(category.group) ?? 0) + amount);
    const file = frame.url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*?\/(server|shared|loadtest)\//, "$1/");
    const key = `${frame.functionName || "(anonymous)"} (${file || "native"}${frame.lineNumber !== undefined && file ? `:${frame.lineNumber + 1}` : ""})`;
    const f = frames.get(key) ?? { category: category.category, amount: 0 };
    f.amount += amount;
    frames.set(key, f);
  }
  const topFrames = [...frames].map(([frame, f]) => ({ frame, ...f })).sort((a, b) => b.amount - a.amount).slice(0, 40);
  return { byCategory, byGroup, topFrames, total };
}

/** CPU time (µs) per category; idle time is left out. */
export function cpuBreakdown(profile: CpuProfile): Breakdown {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const categories = new Map<number, Category>();
  const categoryOfNode = (id: number): Category => {
    const known = categories.get(id);
    if (known) return known;
    const parent = parentOf.get(id);
    const c = categoryOf(byId.get(id)!.callFrame, parent === undefined ? OTHER : categoryOfNode(parent));
    categories.set(id, c);
    return c;
  };
  const selfUs = new Map<number, number>();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    // A sample stands for the time until the next one.
    const us = timeDeltas[i + 1] ?? (profile.endTime - profile.startTime) / Math.max(1, samples.length);
    selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + Math.max(0, us));
  }
  return tally([...selfUs].map(([id, amount]) => ({ frame: byId.get(id)!.callFrame, category: categoryOfNode(id), amount })));
}

/** Bytes allocated per category (the sampled estimate, objects collected since included). */
export function allocationBreakdown(profile: HeapProfile): Breakdown {
  const entries: { frame: CallFrame; category: Category; amount: number }[] = [];
  const walk = (node: HeapProfileNode, parent: Category) => {
    const c = categoryOf(node.callFrame, parent);
    entries.push({ frame: node.callFrame, category: c, amount: node.selfSize });
    for (const child of node.children) walk(child, c);
  };
  walk(profile.head, OTHER);
  return tally(entries);
}
