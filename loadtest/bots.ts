/**
 * Benchmark bots: headless clients that join through an address and wander, changing their stick
 * every second or so, until the process ends.
 */
import { type ArenaSession, joinArena } from "../client/lib/node.ts";

export async function joinWanderingBots(url: string, count: number): Promise<ArenaSession[]> {
  const bots: ArenaSession[] = [];
  for (let i = 0; i < count; i++) {
    const bot = await joinArena({ url, name: `bot${i}` });
    bot.run(30);
    setInterval(() => {
      bot.stick.x = Math.random() * 2 - 1;
      bot.stick.y = Math.random() * 2 - 1;
    }, 500 + Math.random() * 1000).unref();
    bots.push(bot);
  }
  return bots;
}

export async function leaveAll(bots: readonly ArenaSession[]): Promise<void> {
  await Promise.all(bots.map((b) => b.leave().catch(() => undefined)));
}
