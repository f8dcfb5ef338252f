/**
 * One fixed load, measured once: a fresh crowd of lean bots joins a server, settles, and is
 * measured from both sides for a window, then leaves. The A/B comparisons (checkpoints off and on,
 * direct and through the gateway) are made of these.
 */
import { Crowd, type CrowdOptions, type CrowdWindow, SETTLE_MS } from "./crowd.ts";
import type { ServerProbe, ServerWindow } from "./server-probe.ts";

export interface LoadWindow {
  readonly bots: CrowdWindow;
  readonly server: ServerWindow;
  /** CPU of the other processes watched, in percent of one core. */
  readonly extraCpuPercent: Record<string, number>;
}

export async function loadWindow(
  url: string,
  players: number,
  seconds: number,
  probe: ServerProbe,
  extraCpu: Record<string, () => number> = {},
  bots: CrowdOptions = {},
): Promise<LoadWindow> {
  const crowd = new Crowd(url, bots);
  try {
    await crowd.growTo(players);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const before = Object.fromEntries(Object.entries(extraCpu).map(([k, read]) => [k, read()]));
    await probe.start();
    const bots = await crowd.measure(seconds);
    const server = await probe.finish();
    const extraCpuPercent = Object.fromEntries(Object.entries(extraCpu).map(([k, read]) => [k, ((read() - before[k]!) / bots.seconds) * 100]));
    return { bots, server, extraCpuPercent };
  } finally {
    crowd.close();
    // Let the rooms the crowd leaves close before the next window begins.
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Two crowds measured in the same window: each sees the other's load and the server's same moments. */
export interface PairedWindow {
  readonly direct: CrowdWindow;
  readonly relayed: CrowdWindow;
}

/**
 * Half the players join at `directUrl`, half at `relayedUrl` (following their rooms when asked),
 * and both halves are measured over the same seconds: what the server's moment adds to a window's
 * latency, both halves share, so their difference is the path's own. They join in turns, each
 * half first in every other turn, so they share rooms, and the orders in which the node reads its
 * sockets in a busy turn of its loop and writes a room's patch to its clients (the later, the
 * longer a frame waits) favour neither half.
 */
export async function pairedWindow(directUrl: string, relayedUrl: string, players: number, seconds: number, followRoom: boolean): Promise<PairedWindow> {
  const direct = new Crowd(directUrl, { ping: true });
  const relayed = new Crowd(relayedUrl, { followRoom, ping: true });
  try {
    const halves = [relayed, direct];
    const sizes = [Math.ceil(players / 2), Math.floor(players / 2)];
    for (let n = 1; n <= sizes[0]!; n++) {
      const first = n % 2;
      for (const i of [first, 1 - first]) if (n <= sizes[i]!) await halves[i]!.growTo(n);
    }
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const [d, r] = await Promise.all([direct.measure(seconds), relayed.measure(seconds)]);
    return { direct: d, relayed: r };
  } finally {
    direct.close();
    relayed.close();
    await new Promise((r) => setTimeout(r, 1000));
  }
}
