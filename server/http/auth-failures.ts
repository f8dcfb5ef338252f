/**
 * Failed admin authentications, made visible without letting a brute-force run flood the log:
 * every failure is counted, and each address gets one warn line when it starts failing, then at
 * most one line per window carrying how many more failures the window saw.
 */
import type { Logger } from "pino";
import type { Counter } from "prom-client";

export interface AuthFailuresOptions {
  readonly log: Logger;
  readonly counter: Counter;
  readonly windowMs: number;
  /** Addresses tracked at once; failures from further ones share one line, so the map stays bounded. */
  readonly maxAddresses: number;
}

interface Window {
  /** Failures since the address's last line. */
  count: number;
  /** The last failure's, for the window's line. */
  path: string;
  reason: string;
}

export const OTHER_ADDRESSES = "(other addresses)";

export class AuthFailures {
  private readonly o: AuthFailuresOptions;
  private readonly windows = new Map<string, Window>();

  constructor(options: AuthFailuresOptions) {
    this.o = options;
  }

  /** One failed attempt. `path` is logged without its query string; the token sent never is. */
  record(remote: string, url: string, reason: string): void {
    this.o.counter.inc();
    const path = url.split("?")[0]!.slice(0, 200);
    const address = this.windows.size >= this.o.maxAddresses && !this.windows.has(remote) ? OTHER_ADDRESSES : remote;
    const open = this.windows.get(address);
    if (open) {
      open.count++;
      open.path = path;
      open.reason = reason;
      return;
    }
    this.line(address, 1, path, reason);
    this.openWindow(address, path, reason);
  }

  private openWindow(address: string, path: string, reason: string): void {
    const window: Window = { count: 0, path, reason };
    this.windows.set(address, window);
    setTimeout(() => {
      this.windows.delete(address);
      if (window.count === 0) return;
      this.line(address, window.count, window.path, window.reason);
      // Still failing: keep summing, one line per window, for as long as it goes on.
      this.openWindow(address, window.path, window.reason);
    }, this.o.windowMs).unref();
  }

  private line(remote: string, count: number, path: string, reason: string): void {
    this.o.log.warn(
      { event: "admin_auth_failed", remote, path, count, reason, windowMs: this.o.windowMs },
      `admin authentication failed ${count === 1 ? "once" : `${count} times`} from ${remote} (${path}): ${reason}`,
    );
  }
}
