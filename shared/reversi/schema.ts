/**
 * Reversi's wire schemas, shared by the server, the browser page and the bots. Fields are listed
 * in declaration order, which is their index on the wire (docs/protocol.md, "Reversi").
 */
import { schema, t, type SchemaType } from "@colyseus/schema";

export const ReversiPlayer = schema(
  {
    name: t.string().default(""),
    /** 1 black, 2 white: the first player seated is black. */
    color: t.uint8().default(0),
    /** Time left on this player's clock, in milliseconds; counts down during its turns. */
    clockMs: t.uint32().default(0),
  },
  "ReversiPlayer",
);
export type ReversiPlayer = SchemaType<typeof ReversiPlayer>;

export const ReversiState = schema(
  {
    /** 64 squares, row-major, index `y * 8 + x`: 0 empty, 1 black, 2 white. */
    board: t.array("uint8"),
    /** The colour to move: 1 or 2; 0 before the game starts and after it ends. */
    turn: t.uint8().default(0),
    /** Keyed by each player's sessionId. */
    players: t.map(ReversiPlayer),
    /** 0 while the game is undecided, 1 or 2 for the winning colour, 3 for a draw. */
    winner: t.uint8().default(0),
    /** The node that runs this room now; the page shows it, and it changes when a room moves. */
    nodeId: t.string().default(""),
  },
  "ReversiState",
);
export type ReversiState = SchemaType<typeof ReversiState>;
