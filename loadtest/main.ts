/**
 * `npm run loadtest -- --url http://127.0.0.1:2567 --bots 200 --duration 60`: a swarm of bots
 * against a node or a gateway (run.ts), and `npm run loadtest -- agent --coordinator redis://…`:
 * a bot generator on another machine that waits for a run to hand it bots (agent.ts).
 * `--help` after either lists its flags.
 */
export type { LoadReport } from "./load-report.ts";

if (process.argv[2] === "agent") await import("./agent.ts");
else await import("./run.ts");
