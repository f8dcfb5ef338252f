/**
 * A test hook that blocks the event loop on purpose, as a long garbage collection or a burst of
 * work would: with STALL_ON_SIGUSR2_MS set, each SIGUSR2 the node receives spins its main thread
 * for that long. The tests and the benchmark use it to show that a healthy node that stalls keeps
 * its rooms. Off unless the variable is set; a signal reaches the process only from its own
 * machine and user, so no player, gateway or HTTP request can trigger it.
 */
import type { Logger } from "pino";

export function stallOnSigusr2(ms: number, log: Logger): void {
  log.warn({ event: "loop_stall_hook_on", ms }, `STALL_ON_SIGUSR2_MS is set: each SIGUSR2 blocks this node's event loop for ${ms} ms (a test hook)`);
  process.on("SIGUSR2", () => {
    const started = performance.now();
    while (performance.now() - started < ms);
    log.warn({ event: "loop_stalled", ms: Math.round(performance.now() - started) }, "event loop blocked on purpose (SIGUSR2)");
  });
}
