/**
 * The arena as a plain Colyseus 0.18 room, laid out the way the Colyseus docs write one: the
 * baseline Locus's overhead is measured against. It plays the same game (ArenaWorld, the same
 * schemas, the same tick rate) with none of Locus's machinery: no checkpoints, leases, seat
 * holding, input guard or end-of-tick patching. Colyseus's own patch timer ships the state.
 */
import { type Client, Room, ServerError } from "@colyseus/core";
import { ArenaWorld } from "../../server/game/arena-world.ts";
import { Rng } from "../../server/game/rng.ts";
import { JoinErrorCode, parseJoinOptions } from "../../shared/protocol.ts";
import { ArenaState, MoveInput } from "../../shared/schema.ts";

/** Where every room of the process reports its work. */
export interface RoomMeter {
  /** One tick's work in milliseconds: a patch plus the fixed steps it shipped. */
  tickWork(ms: number): void;
  /** Websocket payload bytes handed to one client's socket. */
  bytesSent(bytes: number): void;
}

/** Given once to `server.define`; Colyseus merges it over the client's options, so clients cannot override it. */
export interface PlainRoomOptions {
  readonly tickHz: number;
  readonly maxPlayers: number;
  readonly meter: RoomMeter;
}

/**
 * Inputs a client may have waiting (Locus had the same cap before it fed inputs in its own way).
 * Without one (Colyseus's default is 32) the queue creeps up: a client's 1000/30 ms timer fires at
 * about 30.1 Hz in Node, the fixed step runs at exactly 30, and the ack latency grows by some 4 ms
 * a second until the buffer is full.
 */
const MAX_QUEUED_INPUTS = 3;

export class PlainArenaRoom extends Room<{ state: ArenaState; input: MoveInput }> {
  override state = new ArenaState();
  override inputs = this.defineInput(MoveInput, {
    bufferMaxSize: MAX_QUEUED_INPUTS,
    // A packet gap keeps the held stick held, as in Locus, so both servers simulate the same moves.
    idle: ({ latest }) => latest ?? true,
  });

  private world!: ArenaWorld;
  private meter!: RoomMeter;
  /** Step time not yet reported: the patch that ships those steps adds its own time and reports the sum. */
  private unpatchedMs = 0;
  private stepsSincePatch = 0;
  private readonly stickOf = (sessionId: string) => this.inputs.get(sessionId).next();

  override onCreate(options: PlainRoomOptions): void {
    this.meter = options.meter;
    this.maxClients = options.maxPlayers;
    this.world = new ArenaWorld(this.state, new Rng(Date.now() ^ (Math.random() * 0x7fffffff)));
    this.setFixedTimestep((ctx) => {
      const started = performance.now();
      this.world.step(ctx.dt, this.stickOf);
      this.unpatchedMs += performance.now() - started;
      this.stepsSincePatch++;
    }, options.tickHz);
    // Colyseus's own patch timer at the tick rate. Its phase against the step's timer wanders (by
    // a few milliseconds at the median), so a step's state leaves a little after it, where Locus
    // sends it inside the step.
    this.patchRate = 1000 / options.tickHz;
  }

  /**
   * Locus patches inside its tick and times both as one; here the patch runs on Colyseus's timer,
   * so it is timed on its own and reported together with the steps it carries. A patch with no
   * step before it (only a heartbeat) is carried into the next report, so no work goes unseen.
   */
  override broadcastPatch(): boolean {
    const started = performance.now();
    const changed = super.broadcastPatch();
    this.unpatchedMs += performance.now() - started;
    if (this.stepsSincePatch > 0) {
      this.meter.tickWork(this.unpatchedMs);
      this.unpatchedMs = 0;
      this.stepsSincePatch = 0;
    }
    return changed;
  }

  override onJoin(client: Client, options: unknown): void {
    const parsed = parseJoinOptions(options);
    if (!parsed.ok) throw new ServerError(JoinErrorCode.INVALID_OPTIONS, parsed.error);
    this.world.addPlayer(client.sessionId, parsed.value.name);
    // Every frame a client gets (join, full state, patches) goes through raw, as Locus counts it.
    const raw = client.raw.bind(client);
    client.raw = (data, options, cb) => {
      this.meter.bytesSent(data.byteLength);
      raw(data, options, cb);
    };
  }

  override onLeave(client: Client): void {
    this.world.removePlayer(client.sessionId);
  }
}
