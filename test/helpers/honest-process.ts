/**
 * The honest players' own process (honest-players.ts starts it): lean bots from 127.0.0.1 in one
 * room, and the health check's poll, measured where nothing else runs. It joins the bots, says
 * so, then answers the test's commands over IPC until it is told to close or its parent goes.
 */
import { LeanBot } from "../../loadtest/lean-bot.ts";

/** One honest bot, as a test may ask after it. */
export interface BotStatus {
  /** State frames received since it joined. */
  readonly stateFrames: number;
  readonly reconnects: number;
  /** The close code it left with for good, if it did. */
  readonly leftWith: number | undefined;
}

export interface Window {
  /** State frames per second of the honest player that received the fewest. */
  readonly slowestUpdatesPerSecond: number;
  /** Close codes of honest players that were disconnected for good during the window. */
  readonly kicked: number[];
  /** Codes of the warnings (`room.onError`) honest players received during the window. */
  readonly warnings: number[];
  /** The slowest health check answer seen while the window ran, polled every 200 ms (a timed-out poll counts as its timeout). */
  readonly slowestHealthMs: number;
}

export type Command = { readonly op: "watch"; readonly healthUrl: string; readonly ms: number } | { readonly op: "bots" } | { readonly op: "close" };
export type Reply = { readonly id: number; readonly result?: unknown; readonly error?: string };
export type Started = { readonly roomId: string } | { readonly error: string };

interface Options {
  readonly url: string;
  readonly count: number;
  readonly roomId?: string;
  readonly tickHz?: number;
}

/** After joining, before anything is measured: the first second carries each player's full-state frame. */
const SETTLE_MS = 1000;
const HEALTH_POLL_MS = 200;
const HEALTH_TIMEOUT_MS = 5000;

async function run(options: Options): Promise<void> {
  const tickHz = options.tickHz ?? 30;
  const bots: LeanBot[] = [];
  try {
    bots.push(await LeanBot.join({ url: options.url, name: "honest0", tickHz, ...(options.roomId === undefined ? {} : { roomId: options.roomId }) }));
    for (let i = 1; i < options.count; i++) bots.push(await LeanBot.join({ url: options.url, name: `honest${i}`, tickHz, roomId: bots[0]!.roomId }));
  } catch (err) {
    for (const b of bots) b.close();
    process.send!({ error: err instanceof Error ? err.message : String(err) } satisfies Started, () => process.exit(1));
    return;
  }
  for (const b of bots) b.wander();
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  // A bot's count restarts with every window; what earlier windows counted is kept here.
  const counted = bots.map(() => 0);

  const watch = async (healthUrl: string, ms: number): Promise<Window> => {
    const leftBefore = new Set(bots.filter((b) => b.leftWith !== undefined));
    const warnedBefore = bots.map((b) => b.warnings.length);
    bots.forEach((b, i) => {
      counted[i]! += b.stateFrames;
      b.clearWindow();
    });
    let slowestHealthMs = 0;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const started = performance.now();
        await fetch(healthUrl, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) }).catch(() => undefined);
        slowestHealthMs = Math.max(slowestHealthMs, performance.now() - started);
        await new Promise((r) => setTimeout(r, HEALTH_POLL_MS));
      }
    })();
    const started = performance.now();
    await new Promise((r) => setTimeout(r, ms));
    const seconds = (performance.now() - started) / 1000;
    const frames = bots.map((b) => b.stateFrames);
    polling = false;
    await poll;
    return {
      slowestUpdatesPerSecond: Math.min(...frames) / seconds,
      kicked: bots.filter((b) => b.leftWith !== undefined && !leftBefore.has(b)).map((b) => b.leftWith!),
      warnings: bots.flatMap((b, i) => b.warnings.slice(warnedBefore[i])),
      slowestHealthMs,
    };
  };

  const answer = async (command: Command): Promise<unknown> => {
    if (command.op === "watch") return watch(command.healthUrl, command.ms);
    if (command.op === "bots") return bots.map((b, i): BotStatus => ({ stateFrames: counted[i]! + b.stateFrames, reconnects: b.reconnects, leftWith: b.leftWith }));
    for (const b of bots) b.close();
    // Long enough for the close frames to go out before the process ends.
    setTimeout(() => process.exit(0), 100);
    return undefined;
  };

  process.on("message", (m: { id: number } & Command) => {
    answer(m).then(
      (result) => process.send!({ id: m.id, result } satisfies Reply),
      (err: unknown) => process.send!({ id: m.id, error: String(err) } satisfies Reply),
    );
  });
  process.on("disconnect", () => process.exit(0));
  process.send!({ roomId: bots[0]!.roomId } satisfies Started);
}

await run(JSON.parse(process.argv[2]!) as Options);
