/**
 * BENCHMARKS.md's section for the stock SDK's drain hitch, with and without the reconnection
 * settings docs/durable-rooms.md asks a game's clients to set.
 */
import { markdownTable as table, ms, percentile } from "../report.ts";
import { SDK_KINDS, type SdkHitchOptions, type SdkHitchRun } from "./sdk-hitch.ts";
import { header, type Section, type SectionContext } from "./sections.ts";

export function sdkHitchSection(run: SdkHitchRun, o: Pick<SdkHitchOptions, "drains" | "clientsPerKind">, ctx: SectionContext, command: string): Section {
  return {
    markdown: [
      header("Drain hitch of a stock @colyseus/sdk client", ctx, command),
      `Two arena rooms on one node of a two-node cluster, behind a gateway, each hold ${o.clientsPerKind} clients of one kind: the stock \`@colyseus/sdk\` (with the \`ws\` WebSocket, as in Node) keeping its reconnection defaults (\`minUptime\` 5000, \`delay\` 100, \`minDelay\` 100, so a first retry after 200 ms), and the same SDK with \`reconnection.minUptime = 0\`, \`delay = 5\` and \`minDelay = 5\`, as client/lib/reconnection.ts sets them. Their node is drained ${o.drains} times, back and forth. Each kind has its own room because a moved room resumes once all its players are back: in a shared room the slower kind would hold the quicker one up. A client's hitch is its longest gap between two state frames from the drain's start until it has state from the new node (normal: one tick, 33 ms). Both kinds live through the same drains, so the ratio between them holds on a loaded machine.`,
      "",
      table(
        ["client", "hitch p50", "hitch p99", "hitch max", "worst client per drain, each drain"],
        SDK_KINDS.map((k) => {
          const h = run.hitchesMs[k];
          return [k, `**${ms(percentile(h, 0.5))}**`, `**${ms(percentile(h, 0.99))}**`, ms(Math.max(...h)), run.worstPerDrainMs[k].map((x) => x.toFixed(0)).join(", ")];
        }),
      ),
      "",
      `Clients the SDK gave up on: ${run.left}.`,
      "",
    ].join("\n"),
    plots: [],
  };
}
