/**
 * BENCHMARKS.md's feel section: how the game feels to a player far from the server, Locus beside
 * the plain Colyseus baseline, with the figures Locus had before its netcode was reworked.
 */
import { HELD_INPUTS, VISIBLE_CORRECTION_PX, FREEZE_RATIO, JUMP_RATIO } from "../feel-metrics.ts";
import { LEG_MS } from "../feel-session.ts";
import { LOSS_HOLD_MS } from "../netem/conditions.ts";
import { markdownTable as table, percentile } from "../report.ts";
import { FEEL_CONDITIONS, type FeelRound, type FeelServerRun } from "./feel.ts";
import { header, type Section, type SectionContext } from "./sections.ts";

/**
 * Locus before issue 15 (commit 59dd636), measured with this section's script and proxy on a
 * two-core machine under other load, twice per condition: corrections per minute, the largest,
 * ticks without an input and inputs dropped per minute (the mover's, from its acks: a patch that
 * acknowledged nothing, or more than one), and input-to-ack p50 / p99. The code that produced them
 * is gone; these stay for comparison.
 */
const BEFORE: readonly (readonly [string, string, string, string, string])[] = [
  ["direct", "6–15", "10.7 px", "6 / 6–9", "30–35 / 66–80 ms"],
  ["100 ms ± 20", "3–30", "10.7 px", "6–27 / 6–24", "143–159 / 196–205 ms"],
  ["100 ms ± 20, 1 % held", "33–36", "32.0 px", "114–135 / 114–132", "160–162 / 327–341 ms"],
  ["200 ms ± 60", "57–84", "21.3 px", "96–102 / 93–102", "265–266 / 344–346 ms"],
];

const range = (xs: readonly number[], digits = 0) => {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  if (!Number.isFinite(lo)) return "n/a";
  return lo.toFixed(digits) === hi.toFixed(digits) ? lo.toFixed(digits) : `${lo.toFixed(digits)}–${hi.toFixed(digits)}`;
};
const perMinute = (rounds: readonly FeelRound[], pick: (r: FeelRound) => number) => range(rounds.map((r) => pick(r) / r.metrics.minutes));
const median = (xs: readonly number[]) => percentile(xs, 0.5);
/** A distance far below a pixel, in a form that shows its size. */
const tiny = (px: number) => (px < 1e-9 ? "0 px" : `${px.toExponential(0)} px`);

export function feelSection(runs: readonly FeelServerRun[], o: { seconds: number; rounds: number }, ctx: SectionContext, command: string): Section {
  const rows = (pick: (server: string, condition: string, rounds: FeelRound[]) => string[]) =>
    runs.flatMap((run) => FEEL_CONDITIONS.map((c, i) => [run.server, c.label, ...pick(run.server, c.label, run.rounds[i]!)]));
  const locus = runs.find((r) => r.server === "Locus");
  const baseline = runs.find((r) => r.server !== "Locus");
  const jittery = FEEL_CONDITIONS.findIndex((c) => c.label === "200 ms ± 60");
  const ackCdf = (rounds: FeelRound[]) => {
    const all = rounds.flatMap((r) => r.record.ackLatencies).sort((a, b) => a - b);
    const points: (readonly [number, number])[] = [];
    for (let q = 0; q <= 100; q += 2) points.push([all[Math.min(all.length - 1, Math.floor((q / 100) * all.length))] ?? Number.NaN, q]);
    return points;
  };
  return {
    markdown: [
      header("Feel under real networks", ctx, command),
      `Two players on the game's own client library, driven at 60 frames a second, play through a proxy that delays every chunk of their TCP connections (\`npm run netem\`): half the round trip each way, give or take a normal draw with half its jitter as standard deviation, never reordered; "1 % held" holds one chunk in a hundred ${LOSS_HOLD_MS} ms, as a lost packet's retransmission does. One player holds its stick in ${LEG_MS / 1000} s legs (out along a clear lane, rest, back, rest); the other only watches it. Each condition runs ${o.rounds} times for ${o.seconds} s with a different seed; a cell gives the range over the runs. The machine also runs the benchmark's own processes, so CPU stalls add to the network's jitter.`,
      "",
      "**The own player.** A correction is a reconcile that moves the predicted position; above " +
        `${VISIBLE_CORRECTION_PX} px it shows. Ticks without an input: the server ran the player on a guess because its input was late; dropped: inputs acknowledged without their step (Locus's counters; the baseline has none). Key to screen: from the stick changing to the own player visibly moving (median).`,
      "",
      table(
        ["server", "network", `corrections > ${VISIBLE_CORRECTION_PX} px / min`, "largest", "key to screen", "drawn vs true at rest", "ticks without input / min", "inputs dropped / min", "input-to-ack p50", "p99"],
        rows((_, __, rounds) => [
          perMinute(rounds, (r) => r.metrics.visibleCorrections),
          `${range(rounds.map((r) => r.metrics.largestCorrectionPx), 1)} px`,
          `${range(rounds.map((r) => median(r.metrics.ownShownMs)))} ms`,
          tiny(Math.max(...rounds.map((r) => r.metrics.restOwnPx))),
          rounds[0]?.inputs ? perMinute(rounds, (r) => r.inputs!.withoutInput) : "n/a",
          rounds[0]?.inputs ? perMinute(rounds, (r) => r.inputs!.dropped) : "n/a",
          `${range(rounds.map((r) => r.metrics.ackP50Ms))} ms`,
          `${range(rounds.map((r) => r.metrics.ackP99Ms))} ms`,
        ]),
      ),
      "",
      `**The other player.** Measured on the watcher's screen over the frames in which the mover held its stick at top speed: the variation of the drawn speed (standard deviation over mean of drawn over true speed per frame), runs of frames drawn at under ${FREEZE_RATIO * 100} % (freezes) or over ${JUMP_RATIO * 100} % (jumps) of the true speed, frames drawn past the newest state received (the interpolation ran dry), and how much further in the past than the 100 ms interpolation delay the watcher drew others, for the lateness it had seen (\`DrawClock\`).`,
      "",
      table(
        ["server", "network", "key to the other's screen", "drawn speed variation", "freezes / min", "jumps / min", "frames past the newest state", "extra draw delay (median)", "drawn vs true at rest"],
        rows((_, __, rounds) => [
          `${range(rounds.map((r) => median(r.metrics.seenShownMs)))} ms`,
          range(rounds.map((r) => r.metrics.steadyVariation), 2),
          perMinute(rounds, (r) => r.metrics.freezes),
          perMinute(rounds, (r) => r.metrics.jumps),
          range(rounds.map((r) => r.metrics.underrunFrames)),
          `${range(rounds.map((r) => median(r.record.frames.extraMs)))} ms`,
          tiny(Math.max(...rounds.map((r) => r.metrics.restSeenPx))),
        ]),
      ),
      "",
      `Corrections above 1 px that no stick change explains (none among the ${HELD_INPUTS} inputs before those acknowledged), over all runs: ${runs
        .map((run) => `${run.server} ${run.rounds.flat().reduce((n, r) => n + r.metrics.heldCorrectionsOver1Px, 0)}`)
        .join(", ")}.`,
      "",
      "**Locus before this netcode (commit 59dd636)**, the same script and proxy, 2 runs of 20 s per condition (on a busier machine than most):",
      "",
      table(["network", `corrections > ${VISIBLE_CORRECTION_PX} px / min`, "largest", "ticks without input / inputs dropped, per min", "input-to-ack p50 / p99"], BEFORE.map((r) => [...r])),
      "",
      "`docs/netcode.md` says what changed and why.",
      "",
      "![input-to-ack latency](bench-plots/feel-ack.svg)",
      "",
      "![the other player's drawn speed at 200 ms ± 60](bench-plots/feel-remote-speed.svg)",
      "",
    ].join("\n"),
    plots: [
      {
        file: "feel-ack.svg",
        chart: {
          title: "Input-to-ack latency of the moving player, Locus",
          xLabel: "ms",
          yLabel: "% of inputs acknowledged within",
          series: locus ? FEEL_CONDITIONS.map((c, i) => ({ name: c.label, points: ackCdf(locus.rounds[i]!) })) : [],
        },
      },
      {
        file: "feel-remote-speed.svg",
        chart: {
          title: "Other player's drawn / true speed at a steady stick, 200 ms ± 60",
          xLabel: "seconds",
          yLabel: "drawn / true speed",
          series: [locus, baseline]
            .filter((r): r is FeelServerRun => r !== undefined && jittery >= 0)
            .map((r) => ({ name: r.server, points: r.rounds[jittery]![0]!.metrics.steadySpeed })),
        },
      },
    ],
  };
}
