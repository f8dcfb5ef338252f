import { describe, expect, it } from "vitest";
import { StepPatcher } from "./step-patcher.ts";

function patcher(send: () => void = () => undefined, running = () => true) {
  const events: string[] = [];
  const sent: { tookMs: number; overBudget: boolean }[] = [];
  const failures: Error[] = [];
  const p = new StepPatcher({
    budgetMs: 10,
    running,
    send: () => {
      events.push("send");
      send();
    },
    sent: (tookMs, overBudget) => sent.push({ tookMs, overBudget }),
    failed: (error) => failures.push(error),
  });
  return { p, events, sent, failures };
}

const callbackReturns = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("StepPatcher", () => {
  it("sends one patch after a callback's last step, with every step's time", async () => {
    const { p, events, sent } = patcher();
    p.stepped(4);
    p.stepped(5);
    p.stepped(6);
    expect(events).toEqual([]);
    await callbackReturns();
    expect(events).toEqual(["send"]);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.tookMs).toBeGreaterThanOrEqual(15);
    // Three steps have three steps' budget.
    expect(sent[0]!.overBudget).toBe(false);

    p.stepped(12);
    await callbackReturns();
    expect(events).toEqual(["send", "send"]);
    expect(sent[1]!.overBudget).toBe(true);
  });

  it("sends nothing for a room that stopped before its callback returned", async () => {
    let running = true;
    const { p, events, sent } = patcher(undefined, () => running);
    p.stepped(1);
    running = false;
    await callbackReturns();
    expect(events).toEqual([]);
    expect(sent).toEqual([]);
  });

  it("hands a throwing send to `failed`, and patches the next callback's steps as ever", async () => {
    let fail = true;
    const { p, events, sent, failures } = patcher(() => {
      if (fail) throw new Error("encoder broke");
    });
    const escaped: unknown[] = [];
    const onUncaught = (err: unknown) => escaped.push(err);
    process.on("uncaughtException", onUncaught);
    try {
      p.stepped(1);
      p.stepped(1);
      await callbackReturns();
      expect(failures.map((e) => e.message)).toEqual(["encoder broke"]);
      expect(sent).toEqual([]);

      fail = false;
      p.stepped(1);
      await callbackReturns();
      expect(events).toEqual(["send", "send"]);
      expect(sent).toHaveLength(1);
      expect(escaped).toEqual([]);
    } finally {
      process.off("uncaughtException", onUncaught);
    }
  });
});
