/**
 * The bots a swarm can run, per game: a load bot (a player's wire traffic, measured cheaply) and
 * an observer (the full client library, which decodes state and so sees what a moved room lost).
 * A new game adds its two kinds here and its name to GAMES; the swarm needs nothing else.
 */
import { FullBot } from "./full-bot.ts";
import { LeanBot } from "./lean-bot.ts";
import type { Game } from "./swarm-protocol.ts";

/** What the swarm reads from a load bot, whatever it plays. */
export interface LoadBot {
  /** State frames received since the last `clearWindow()`. */
  readonly stateFrames: number;
  /** Milliseconds from each action to the state that acknowledged it, since the last `clearWindow()`. */
  readonly ackLatencies: readonly number[];
  /** Bytes received; the swarm zeroes it as it counts them. */
  bytesReceived: number;
  readonly reconnects: number;
  /** Set when the bot gave up: the close code that ended it. */
  readonly leftWith: number | undefined;
  /** For each drop of its socket, the milliseconds until it had state again. */
  readonly recoveries: readonly number[];
  /** The longest gap between two state frames that ended in this window (or is still open). */
  longestGap(): number;
  clearWindow(): void;
  /** Cuts its socket without a close frame; the bot reconnects as after any drop. */
  cut(): void;
  /** Leaves for good. */
  close(): void;
}

/** What the swarm reads from an observer. */
export interface ObserverBot {
  readonly reconnects: number;
  readonly leftWith: number | undefined;
  /** Ticks of history lost at each move of its room to another node. */
  readonly lostTicks: readonly number[];
  /** The longest gap between two state frames over its life. */
  longestGap(): number;
  close(): void;
}

export interface BotKinds {
  joinLoadBot(url: string, name: string, tickHz: number, followRoom: boolean): Promise<LoadBot>;
  joinObserver(url: string, name: string, followRoom: boolean): Promise<ObserverBot>;
}

export const BOT_KINDS: Record<Game, BotKinds> = {
  arena: {
    async joinLoadBot(url, name, tickHz, followRoom) {
      const bot = await LeanBot.join({ url, name, tickHz, followRoom });
      bot.wander();
      return bot;
    },
    joinObserver: (url, name, followRoom) => FullBot.join(url, name, followRoom),
  },
};
