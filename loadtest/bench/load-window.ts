/**
 * One fixed load, measured once: a fresh crowd of lean bots joins a server, settles, and is
 * measured from both sides for a window, then leaves. The A/B comparisons (checkpoints off and on,
 * direct and through the gateway) are made of these.
 */
import { Crowd, type CrowdWindow, SETTLE_MS } from "./crowd.ts";
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
): Promise<LoadWindow> {
  const crowd = new Crowd(url);
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
