/**
 * How many sockets the process holds, in total and per client address. Every TCP connection
 * counts in the total. Against its client's address a socket counts once: when it is accepted,
 * for a client that connects directly; when it becomes a websocket, for one a trusted proxy (a
 * gateway) opened on a client's behalf, since a proxy's own connections carry many clients.
 */

export type SocketRefusal = "sockets_total" | "sockets_per_ip";

export class SocketLimits {
  private total = 0;
  private readonly perKey = new Map<string, number>();
  private readonly maxTotal: number;
  private readonly maxPerKey: number;

  constructor(maxTotal: number, maxPerKey: number) {
    this.maxTotal = maxTotal;
    this.maxPerKey = maxPerKey;
  }

  /**
   * Counts a socket, or says which limit it would break and counts nothing. `connection`: a new
   * TCP connection (counted in the total); otherwise a proxied websocket, already in the total.
   * `key` undefined: not counted against any address (a trusted proxy, an exempt address).
   */
  open(key: string | undefined, connection: boolean): SocketRefusal | undefined {
    if (connection && this.total >= this.maxTotal) return "sockets_total";
    const held = key === undefined ? 0 : (this.perKey.get(key) ?? 0);
    if (key !== undefined && held >= this.maxPerKey) return "sockets_per_ip";
    if (connection) this.total++;
    if (key !== undefined) this.perKey.set(key, held + 1);
    return undefined;
  }

  /** Uncounts a socket `open` admitted, with the same arguments. */
  close(key: string | undefined, connection: boolean): void {
    if (connection) this.total--;
    if (key === undefined) return;
    const held = (this.perKey.get(key) ?? 1) - 1;
    // An address with no socket left leaves no entry: the map never outgrows the sockets held.
    if (held === 0) this.perKey.delete(key);
    else this.perKey.set(key, held);
  }

  get sockets(): number {
    return this.total;
  }

  get addresses(): number {
    return this.perKey.size;
  }
}
