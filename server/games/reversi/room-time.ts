/**
 * A room's own time, in milliseconds: it runs only while the room runs, so a crash, a move to
 * another node or a wait for the players to come back stops it, and a rebuilt room's time goes on
 * from where its checkpoint left it.
 */
export class RoomTime {
  private base: number;
  /** performance.now() when it last started running; undefined while it stands. */
  private since: number | undefined;

  /** Stands at `at` until `run()`. */
  constructor(at = 0) {
    this.base = at;
  }

  now(): number {
    return this.since === undefined ? this.base : this.base + (performance.now() - this.since);
  }

  run(): void {
    this.since ??= performance.now();
  }

  stand(): void {
    this.base = this.now();
    this.since = undefined;
  }
}
