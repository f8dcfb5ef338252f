/**
 * `npm run netem -- --target 127.0.0.1:2567 --rtt 100 --jitter 20 --loss 1%`: plays a distant
 * network between a client and a node by hand. Point the browser or a bot at the address it
 * prints; it runs until interrupted.
 */
import { parseFlags } from "../../server/cli.ts";
import { checkNetConditions, describeNetConditions, LOSS_HOLD_MS, parseNetConditions } from "./conditions.ts";
import { NetemProxy } from "./proxy.ts";

const spec = {
  target: { type: "string", help: "host:port to forward to (required), e.g. 127.0.0.1:2567" },
  listen: { type: "string", help: "host:port to listen on (default 127.0.0.1 and a free port)" },
  rtt: { type: "string", help: "round trip to add, in milliseconds (default 0)" },
  jitter: { type: "string", help: "the round trip's jitter, in milliseconds: each direction's delay varies with a standard deviation of half of it (default 0)" },
  loss: { type: "string", help: `chunks lost and so held ${LOSS_HOLD_MS} ms, e.g. 1% (default 0%)` },
  seed: { type: "string", help: "seed of the delay draws (default 1)" },
} as const;

const program = "npm run netem --";
const flags = parseFlags(program, spec);

function hostPort(flag: "target" | "listen", text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([\w.-]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535 || (flag === "target" && port === 0)) flags.fail(`--${flag} must be host:port, got ${JSON.stringify(text)}`);
  return { host: m![1] ?? m![2]!, port };
}

const target = typeof flags.values.target === "string" ? hostPort("target", flags.values.target) : flags.fail("--target is required");
const listen = typeof flags.values.listen === "string" ? hostPort("listen", flags.values.listen) : { host: "127.0.0.1", port: 0 };
const seed = flags.int("seed", 1, 0, 2 ** 31 - 1);
let conditions;
try {
  const given = (["rtt", "jitter", "loss"] as const).filter((k) => typeof flags.values[k] === "string").map((k) => `${k}=${flags.values[k] as string}`);
  conditions = checkNetConditions(given.length > 0 ? parseNetConditions(given.join(",")) : { rttMs: 0, jitterMs: 0, loss: 0 });
} catch (err) {
  flags.fail((err as Error).message);
}

let proxy: NetemProxy;
try {
  proxy = await NetemProxy.start({ target, conditions, seed, host: listen.host, port: listen.port });
} catch (err) {
  flags.fail(`cannot listen on ${listen.host}:${listen.port}: ${(err as Error).message}`);
}
process.stdout.write(`netem: ${proxy!.url} → ${target.host}:${target.port}, ${describeNetConditions(conditions!)}, seed ${seed}; Ctrl-C stops it\n`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void proxy.stop().then(() => process.exit(0)));
}
