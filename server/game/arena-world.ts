/**
 * The arena's rules over its state: spawning, one fixed step of movement, coins and scoring.
 * Nothing here knows about sockets or Colyseus rooms, so a checkpoint can rebuild a world from
 * its state and random state alone.
 */
import {
  ARENA_HEIGHT,
  ARENA_WIDTH,
  COIN_RADIUS,
  COIN_SPAWN_INTERVAL_TICKS,
  COIN_VALUE,
  MAX_COINS,
  PLAYER_RADIUS,
} from "../../shared/constants.ts";
import { isClear, separatePlayers, type Stick, stepPlayer } from "../../shared/physics.ts";
import { ArenaState, Coin, Player } from "../../shared/schema.ts";
import { Rng } from "./rng.ts";

export const PALETTE_SIZE = 8;
const PICKUP_DISTANCE_SQ = (PLAYER_RADIUS + COIN_RADIUS) * (PLAYER_RADIUS + COIN_RADIUS);
const PLACEMENT_ATTEMPTS = 32;

export class ArenaWorld {
  readonly state: ArenaState;
  readonly rng: Rng;
  /** Next coin key; part of what a checkpoint carries so keys never repeat. */
  nextCoinId: number;
  /** Players in join order, the order the step visits them in, kept beside the map to avoid iterator allocation. */
  private readonly ids: string[] = [];
  private readonly bodies: Player[] = [];
  private readonly collected: string[] = [];

  /** `order`: the players' visit order, when the state's own order may differ from it (a state restored from JSON). */
  constructor(state: ArenaState, rng: Rng, nextCoinId = 0, order?: readonly string[]) {
    this.state = state;
    this.rng = rng;
    this.nextCoinId = nextCoinId;
    if (order) {
      for (const id of order) {
        const player = state.players.get(id);
        if (!player) throw new Error(`player ${id} of the visit order is not in the state`);
        this.ids.push(id);
        this.bodies.push(player);
      }
      if (this.ids.length !== state.players.size) throw new Error(`a visit order of ${this.ids.length} for ${state.players.size} players`);
      return;
    }
    state.players.forEach((player, id) => {
      this.ids.push(id);
      this.bodies.push(player);
    });
  }

  get playerCount(): number {
    return this.ids.length;
  }

  /** The players in the order the step visits them. */
  get visitOrder(): readonly string[] {
    return this.ids;
  }

  addPlayer(sessionId: string, name: string): Player {
    const player = new Player();
    player.name = name;
    player.color = Math.floor(this.rng.next() * PALETTE_SIZE);
    this.place(player, PLAYER_RADIUS * 1.5);
    this.state.players.set(sessionId, player);
    this.ids.push(sessionId);
    this.bodies.push(player);
    return player;
  }

  removePlayer(sessionId: string): void {
    const i = this.ids.indexOf(sessionId);
    if (i < 0) return;
    this.ids.splice(i, 1);
    this.bodies.splice(i, 1);
    this.state.players.delete(sessionId);
  }

  /**
   * One fixed step: every player moves under its stick, players part, coins are taken and dropped.
   * A player whose stick is undefined sits this step out (it does not move on its own). A player
   * that moves may move once more, under the stick `catchUpOf` gives it (asked right after its
   * first): a player the room waited for, catching up. Only movement runs twice, which is all the
   * client predicts of itself.
   */
  step(dt: number, stickOf: (sessionId: string) => Stick | undefined, catchUpOf?: (sessionId: string) => Stick | undefined): void {
    const { ids, bodies } = this;
    for (let i = 0; i < ids.length; i++) {
      const stick = stickOf(ids[i]!);
      if (!stick) continue;
      stepPlayer(bodies[i]!, stick, dt);
      const again = catchUpOf?.(ids[i]!);
      if (again) stepPlayer(bodies[i]!, again, dt);
    }
    separatePlayers(bodies, bodies.length);
    this.collectCoins();
    const tick = this.state.tick + 1;
    this.state.tick = tick;
    if (tick % COIN_SPAWN_INTERVAL_TICKS === 0 && this.state.coins.size < MAX_COINS) this.spawnCoin();
  }

  private collectCoins(): void {
    const { bodies, collected } = this;
    collected.length = 0;
    this.state.coins.forEach((coin, key) => {
      for (let i = 0; i < bodies.length; i++) {
        const p = bodies[i]!;
        const dx = p.x - coin.x;
        const dy = p.y - coin.y;
        if (dx * dx + dy * dy <= PICKUP_DISTANCE_SQ) {
          p.score += COIN_VALUE;
          collected.push(key);
          return;
        }
      }
    });
    for (let i = 0; i < collected.length; i++) this.state.coins.delete(collected[i]!);
  }

  private spawnCoin(): void {
    const coin = new Coin();
    this.place(coin, COIN_RADIUS * 2);
    this.state.coins.set(`c${this.nextCoinId++}`, coin);
  }

  /** Puts a thing at a random spot clear of the pillars (the centre of the floor if none is found). */
  private place(thing: { x: number; y: number }, margin: number): void {
    for (let attempt = 0; attempt < PLACEMENT_ATTEMPTS; attempt++) {
      const x = this.rng.range(margin, ARENA_WIDTH - margin);
      const y = this.rng.range(margin, ARENA_HEIGHT - margin);
      if (isClear(x, y, margin)) {
        thing.x = x;
        thing.y = y;
        return;
      }
    }
    thing.x = ARENA_WIDTH / 2;
    thing.y = margin;
  }
}
