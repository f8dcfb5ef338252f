/**
 * What a coordinator and its agents say to each other through Redis, and the checks on it: the
 * Redis is shared, so whatever is read from it is held to the shapes below before it is used.
 */
import { checkNetConditions, type NetConditions } from "./netem/conditions.ts";
import { MAX_BOTS, MAX_RUN_MS, type Stage, totalMs } from "./schedule.ts";
import { GAMES, type SwarmPlan, type SwarmRequest, type SwarmSample } from "./swarm-protocol.ts";

/** How an agent describes itself while it waits. */
export interface AgentInfo {
  readonly host: string;
  readonly workers: number;
}

/** The first message in an agent's inbox: its part of a run. */
export interface AgentOrders {
  readonly kind: "orders";
  readonly runId: string;
  readonly plan: SwarmPlan;
}

/** An agent's inbox holds its orders, then its coordinator's requests. */
export type AgentMessage = AgentOrders | SwarmRequest;

/** What an agent pushes to its run's outbox: its sample, merged over its workers. */
export interface AgentAnswer {
  readonly agent: string;
  readonly sample: SwarmSample;
}

export const ID = /^[A-Za-z0-9_.-]{1,128}$/;
export const MAX_WORKERS = 32;
const MAX_LIST = 1_000_000;
const MAX_HISTOGRAM_CHARS = 4_000_000;

class Bad extends Error {}

function record(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Bad(`${what} is not an object`);
  return v as Record<string, unknown>;
}

function whole(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) throw new Bad(`${what} is not a whole number from ${min} to ${max}`);
  return v;
}

function real(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) throw new Bad(`${what} is not a number from ${min} to ${max}`);
  return v;
}

function text(v: unknown, what: string, pattern: RegExp): string {
  if (typeof v !== "string" || !pattern.test(v)) throw new Bad(`${what} is not ${pattern}`);
  return v;
}

function numbers(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || v.length > MAX_LIST) throw new Bad(`${what} is not a list`);
  return v.map((x, i) => real(x, `${what}[${i}]`, 0, Number.MAX_SAFE_INTEGER));
}

function closeCodes(v: unknown): Record<string, number> {
  const codes = record(v, "sample.droppedCodes");
  const entries = Object.entries(codes);
  if (entries.length > 100) throw new Bad("sample.droppedCodes has too many codes");
  return Object.fromEntries(entries.map(([code, n]) => [text(code, "a close code", /^\d{1,4}$/), whole(n, `sample.droppedCodes.${code}`, 0, Number.MAX_SAFE_INTEGER)]));
}

function flag(v: unknown, what: string): boolean {
  if (typeof v !== "boolean") throw new Bad(`${what} is not true or false`);
  return v;
}

function parse<T>(json: string, what: string, check: (v: unknown) => T): T {
  try {
    return check(JSON.parse(json));
  } catch (err) {
    throw new Error(`a malformed ${what}: ${(err as Error).message}`);
  }
}

export function parsePlan(v: unknown): SwarmPlan {
  const p = record(v, "plan");
  const rawStages = p.stages;
  if (!Array.isArray(rawStages) || rawStages.length === 0 || rawStages.length > 100) throw new Bad("plan.stages is not a list of 1 to 100 stages");
  const stages: Stage[] = rawStages.map((s, i) => {
    const stage = record(s, `plan.stages[${i}]`);
    return { durationMs: whole(stage.durationMs, `plan.stages[${i}].durationMs`, 0, MAX_RUN_MS), target: whole(stage.target, `plan.stages[${i}].target`, 0, MAX_BOTS) };
  });
  if (totalMs(stages) > MAX_RUN_MS) throw new Bad("plan.stages last too long");
  const game = GAMES.find((g) => g === p.game);
  if (!game) throw new Bad(`plan.game is not one of ${GAMES.join(", ")}`);
  return {
    url: text(p.url, "plan.url", /^https?:\/\/[^\s/?#]+$/),
    game,
    stages,
    fullBots: whole(p.fullBots, "plan.fullBots", 0, MAX_BOTS),
    churnPerSecond: real(p.churnPerSecond, "plan.churnPerSecond", 0, 1000),
    tickHz: whole(p.tickHz, "plan.tickHz", 1, 120),
    // A coordinator from before --follow-room sends none.
    followRoom: p.followRoom === undefined ? false : flag(p.followRoom, "plan.followRoom"),
    ...(p.net === undefined ? {} : { net: parseNet(p.net) }),
  };
}

function parseNet(v: unknown): NetConditions {
  const n = record(v, "plan.net");
  try {
    return checkNetConditions({ rttMs: real(n.rttMs, "plan.net.rttMs", 0, Number.MAX_SAFE_INTEGER), jitterMs: real(n.jitterMs, "plan.net.jitterMs", 0, Number.MAX_SAFE_INTEGER), loss: real(n.loss, "plan.net.loss", 0, 1) });
  } catch (err) {
    throw new Bad(`plan.net: ${(err as Error).message}`);
  }
}

export function parseAgentMessage(json: string): AgentMessage {
  return parse(json, "message from the coordinator", (v) => {
    const m = record(v, "message");
    switch (m.kind) {
      case "orders":
        return { kind: "orders", runId: text(m.runId, "runId", ID), plan: parsePlan(m.plan) };
      case "sample":
      case "stop":
        return { kind: m.kind };
      case "storm":
        if (typeof m.cut !== "boolean") throw new Bad("storm.cut is not true or false");
        return { kind: "storm", cut: m.cut };
      default:
        throw new Bad(`unknown kind ${JSON.stringify(m.kind)}`);
    }
  });
}

export function parseAgentInfo(json: string): AgentInfo {
  return parse(json, "agent record", (v) => {
    const a = record(v, "agent");
    return { host: text(a.host, "host", /^[\x21-\x7e]{1,253}$/), workers: whole(a.workers, "workers", 1, MAX_WORKERS) };
  });
}

export function parseAgentAnswer(json: string): AgentAnswer {
  return parse(json, "answer from an agent", (v) => {
    const a = record(v, "answer");
    const s = record(a.sample, "sample");
    const gauge = (k: string) => whole(s[k], `sample.${k}`, 0, Number.MAX_SAFE_INTEGER);
    const sample: SwarmSample = {
      connected: gauge("connected"),
      leanConnected: gauge("leanConnected"),
      joined: gauge("joined"),
      failed: gauge("failed"),
      dropped: gauge("dropped"),
      droppedCodes: closeCodes(s.droppedCodes),
      reconnected: gauge("reconnected"),
      churned: gauge("churned"),
      stormPending: gauge("stormPending"),
      stateFrames: gauge("stateFrames"),
      bytes: gauge("bytes"),
      ackHistogram: typeof s.ackHistogram === "string" && s.ackHistogram.length <= MAX_HISTOGRAM_CHARS && /^[A-Za-z0-9+/=]*$/.test(s.ackHistogram) ? s.ackHistogram : "",
      longestGapMs: real(s.longestGapMs, "sample.longestGapMs", 0, Number.MAX_SAFE_INTEGER),
      lastError: typeof s.lastError === "string" ? s.lastError.slice(0, 500) : "",
      cpuPercent: real(s.cpuPercent, "sample.cpuPercent", 0, 100_000),
      loopDelayP99Ms: real(s.loopDelayP99Ms, "sample.loopDelayP99Ms", 0, Number.MAX_SAFE_INTEGER),
    };
    if (s.ackHistogram !== undefined && s.ackHistogram !== sample.ackHistogram) throw new Bad("sample.ackHistogram is not a compressed histogram");
    if (s.reconnectedBotGaps !== undefined) sample.reconnectedBotGaps = numbers(s.reconnectedBotGaps, "sample.reconnectedBotGaps");
    if (s.lostTicks !== undefined) sample.lostTicks = numbers(s.lostTicks, "sample.lostTicks");
    if (s.storm !== undefined) {
      const storm = record(s.storm, "sample.storm");
      sample.storm = { backMs: numbers(storm.backMs, "sample.storm.backMs"), lost: whole(storm.lost, "sample.storm.lost", 0, Number.MAX_SAFE_INTEGER) };
    }
    return { agent: text(a.agent, "agent", ID), sample };
  });
}
