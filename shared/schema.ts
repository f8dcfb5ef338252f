/**
 * The arena's wire schemas, shared by the server, the browser game and the bots. Positions travel
 * as float32: half the bytes of float64, and the reconciler absorbs the rounding.
 */
import { schema, t, type SchemaType } from "@colyseus/schema";

export const Player = schema(
  {
    name: t.string().default(""),
    x: t.float32().default(0),
    y: t.float32().default(0),
    vx: t.float32().default(0),
    vy: t.float32().default(0),
    score: t.uint32().default(0),
    /** Index into the client's palette, fixed at join so a player keeps its colour. */
    color: t.uint8().default(0),
    /** False while the seat is held for a dropped player who may reconnect. */
    connected: t.boolean().default(true),
  },
  "Player",
);
export type Player = SchemaType<typeof Player>;

export const Coin = schema(
  {
    x: t.float32().default(0),
    y: t.float32().default(0),
  },
  "Coin",
);
export type Coin = SchemaType<typeof Coin>;

export const ArenaState = schema(
  {
    players: t.map(Player),
    coins: t.map(Coin),
    tick: t.uint32().default(0),
    /** The node that runs this room now; the HUD shows it, and it changes when a room moves. */
    nodeId: t.string().default(""),
  },
  "ArenaState",
);
export type ArenaState = SchemaType<typeof ArenaState>;

/**
 * One fixed step of one player's stick. The sequence number is the framework's: the SDK numbers
 * each input as it sends it and the server acknowledges the count it has simulated in every patch.
 */
export const MoveInput = schema(
  {
    x: t.float32().default(0),
    y: t.float32().default(0),
  },
  "MoveInput",
);
export type MoveInput = SchemaType<typeof MoveInput>;
