/**
 * Where a process's CPU went, from the V8 CPU profile it writes on exit (`--cpu-prof`): the share of
 * its busy samples (idle ones left out) spent inside chosen functions, their callees included. A
 * share read from one process carries none of the noise between two fresh processes that an A/B of
 * whole nodes does (several points of a core here), so a cost of a few percent shows in it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** A function the share is counted under: a file name (the last part of its URL) and optionally its name. */
export interface FrameMatch {
  readonly file: string;
  readonly fn?: string;
}

export interface ProfileShares {
  /** Busy CPU seconds in the window. */
  readonly busySeconds: number;
  /** Per group, the fraction of the busy samples under any of its frames. */
  readonly shares: Record<string, number>;
}

/** Reads the one profile a process wrote into `dir`. */
export function readCpuProfile(dir: string): CpuProfile {
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  if (files.length !== 1) throw new Error(`expected one .cpuprofile in ${dir}, found ${files.length}`);
  return JSON.parse(readFileSync(join(dir, files[0]!), "utf8")) as CpuProfile;
}

/**
 * The shares of `groups` in the samples taken between `fromEndUs` and `toEndUs` microseconds
 * before the profile's end (the process's exit), so that a window timed from outside is read.
 */
export function profileShares(profile: CpuProfile, groups: Record<string, readonly FrameMatch[]>, fromEndUs: number, toEndUs: number): ProfileShares {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const matches = (n: ProfileNode, frames: readonly FrameMatch[]) => {
    const file = n.callFrame.url.slice(n.callFrame.url.lastIndexOf("/") + 1);
    return frames.some((f) => f.file === file && (f.fn === undefined || f.fn === n.callFrame.functionName));
  };
  const under = new Map<string, Map<number, boolean>>(Object.keys(groups).map((g) => [g, new Map()]));
  const isUnder = (group: string, id: number): boolean => {
    const memo = under.get(group)!;
    const known = memo.get(id);
    if (known !== undefined) return known;
    const up = parent.get(id);
    const result = matches(byId.get(id)!, groups[group]!) || (up !== undefined && isUnder(group, up));
    memo.set(id, result);
    return result;
  };
  const from = profile.endTime - fromEndUs;
  const to = profile.endTime - toEndUs;
  let t = profile.startTime;
  let busy = 0;
  const inGroup: Record<string, number> = Object.fromEntries(Object.keys(groups).map((g) => [g, 0]));
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    if (t < from || t > to || byId.get(id)!.callFrame.functionName === "(idle)") return;
    busy += dt;
    for (const g of Object.keys(groups)) if (isUnder(g, id)) inGroup[g]! += dt;
  });
  return {
    busySeconds: busy / 1e6,
    shares: Object.fromEntries(Object.entries(inGroup).map(([g, us]) => [g, busy > 0 ? us / busy : 0])),
  };
}
