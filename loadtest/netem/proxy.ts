/**
 * A TCP proxy that makes a network out of loopback: every chunk, in each direction of every
 * connection, is delayed by a seeded normal draw (half the round trip, plus jitter), a lost chunk
 * is held LOSS_HOLD_MS longer, and nothing is ever reordered. HTTP and websockets both pass
 * through it, so a client pointed at the proxy's URL plays as a player far from the server would.
 *
 *     const net = await NetemProxy.start({ target: { host: "127.0.0.1", port: 2567 }, conditions, seed: 1 });
 *     joinArena({ url: net.url, … });  …  net.conditions = { rttMs: 200, jitterMs: 60, loss: 0 };  …  await net.stop();
 */
import { createServer, type Server, Socket } from "node:net";
import { checkNetConditions, type NetConditions, NO_DELAY } from "./conditions.ts";
import { DelayLine, lineSeed } from "./delay-line.ts";

export interface NetemOptions {
  readonly target: { readonly host: string; readonly port: number };
  readonly conditions?: NetConditions;
  /** The same seed draws the same delays for the same connections in the same order. */
  readonly seed?: number;
  /** Where to listen; 127.0.0.1 and a free port unless given. */
  readonly host?: string;
  readonly port?: number;
}

export class NetemProxy {
  readonly host: string;
  readonly port: number;
  readonly seed: number;
  private current: NetConditions;
  private readonly server: Server;
  private readonly pipes = new Set<Pipe>();
  private readonly sockets = new Set<Socket>();

  private constructor(server: Server, host: string, port: number, seed: number, conditions: NetConditions) {
    this.server = server;
    this.host = host;
    this.port = port;
    this.seed = seed;
    this.current = conditions;
  }

  static async start(options: NetemOptions): Promise<NetemProxy> {
    const conditions = checkNetConditions(options.conditions ?? NO_DELAY);
    const seed = options.seed ?? 1;
    const host = options.host ?? "127.0.0.1";
    let proxy: NetemProxy | undefined;
    let connections = 0;
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => proxy!.carry(client, connections++, options.target));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, host, () => resolve());
    });
    const address = server.address();
    if (typeof address !== "object" || address === null) throw new Error("netem: the proxy has no address");
    proxy = new NetemProxy(server, host, address.port, seed, conditions);
    return proxy;
  }

  /** The proxy as an http:// base URL, to hand to a client in place of the server's. */
  get url(): string {
    return `http://${this.host.includes(":") ? `[${this.host}]` : this.host}:${this.port}`;
  }

  get conditions(): NetConditions {
    return this.current;
  }

  /** Applies to every chunk from now on, on connections already open too. */
  set conditions(c: NetConditions) {
    this.current = checkNetConditions(c);
  }

  /** Stops listening and cuts every connection it carries. */
  async stop(): Promise<void> {
    for (const pipe of this.pipes) pipe.cancel();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private carry(client: Socket, index: number, target: NetemOptions["target"]): void {
    const upstream = new Socket({ allowHalfOpen: true });
    upstream.setNoDelay(true);
    upstream.connect(target.port, target.host);
    const conditions = () => this.current;
    const up = new Pipe(new DelayLine(lineSeed(this.seed, index, 0)), conditions, upstream);
    const down = new Pipe(new DelayLine(lineSeed(this.seed, index, 1)), conditions, client);
    for (const [socket, pipe] of [[client, up], [upstream, down]] as const) {
      this.sockets.add(socket);
      this.pipes.add(pipe);
      socket.on("data", (chunk: Buffer) => pipe.push(chunk));
      socket.on("end", () => pipe.push(null));
      socket.on("error", () => undefined);
      socket.on("close", (hadError) => {
        this.sockets.delete(socket);
        this.pipes.delete(pipe);
        // A reset on one side resets the other at once; a clean close travels the delay like data.
        if (hadError) {
          up.cancel();
          down.cancel();
          client.destroy();
          upstream.destroy();
        }
      });
    }
  }
}

/** One direction of one connection: chunks wait in order until their delivery time. */
class Pipe {
  private readonly line: DelayLine;
  private readonly conditions: () => NetConditions;
  private readonly out: Socket;
  /** Delivery times and chunks, parallel; null is the sender's end of stream. */
  private readonly times: number[] = [];
  private readonly chunks: (Buffer | null)[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(line: DelayLine, conditions: () => NetConditions, out: Socket) {
    this.line = line;
    this.conditions = conditions;
    this.out = out;
  }

  push(chunk: Buffer | null): void {
    const now = performance.now();
    const at = this.line.schedule(now, this.conditions());
    if (at <= now && this.times.length === 0) {
      this.deliver(chunk);
      return;
    }
    this.times.push(at);
    this.chunks.push(chunk);
    if (this.times.length === 1) this.arm(now);
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.times.length = 0;
    this.chunks.length = 0;
  }

  private arm(now: number): void {
    this.timer = setTimeout(() => this.flush(), Math.max(0, Math.ceil(this.times[0]! - now)));
  }

  private flush(): void {
    const now = performance.now();
    let due = 0;
    // A timer fires on a whole millisecond: what falls due within it goes now rather than a turn later.
    while (due < this.times.length && this.times[due]! <= now + 1) due++;
    const chunks = this.chunks.splice(0, due);
    this.times.splice(0, due);
    for (const chunk of chunks) this.deliver(chunk);
    if (this.times.length > 0) this.arm(now);
  }

  private deliver(chunk: Buffer | null): void {
    if (this.out.destroyed) return;
    if (chunk === null) this.out.end();
    else this.out.write(chunk);
  }
}
