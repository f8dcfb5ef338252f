/**
 * A Locus node that serves the example tally room beside Locus's own games: the same settings
 * (environment variables) as `npm start`, one more room type.
 */
import { loadNodeConfig } from "../../server/config.ts";
import { createLogger } from "../../server/log.ts";
import { startNode } from "../../server/node.ts";
import { TALLY_FRAMES, tallyRoom } from "./tally-room.ts";

const config = loadNodeConfig(process.env, { staticDir: "dist/client" });
await startNode(config, createLogger(config.logLevel, config.nodeId), [{ name: "tally", frames: TALLY_FRAMES, bind: tallyRoom }]);
