import { createServer, type Server, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { describeNetConditions, LOSS_HOLD_MS, type NetConditions, parseNetConditions } from "./conditions.ts";
import { DelayLine } from "./delay-line.ts";
import { NetemProxy } from "./proxy.ts";

describe("network conditions", () => {
  it("parses the load tester's form, in any order", () => {
    expect(parseNetConditions("rtt=100,jitter=20,loss=1%")).toEqual({ rttMs: 100, jitterMs: 20, loss: 0.01 });
    expect(parseNetConditions("loss=0.5%, rtt=200ms")).toEqual({ rttMs: 200, jitterMs: 0, loss: 0.005 });
    expect(describeNetConditions(parseNetConditions("rtt=100,jitter=20,loss=1%"))).toBe("100 ms ± 20, 1 % held");
  });

  it("refuses what it cannot mean, naming the part", () => {
    expect(() => parseNetConditions("rtt=100,lag=5")).toThrow(/"lag=5"/);
    expect(() => parseNetConditions("loss=1")).toThrow(/percentage/);
    expect(() => parseNetConditions("rtt=5%")).toThrow(/milliseconds/);
    expect(() => parseNetConditions("rtt=1,rtt=2")).toThrow(/twice/);
    expect(() => parseNetConditions("loss=120%")).toThrow(/0 to 100/);
  });
});

describe("DelayLine", () => {
  const draw = (seed: number, c: NetConditions, n: number) => {
    const line = new DelayLine(seed);
    return Array.from({ length: n }, (_, i) => line.schedule(i * 10, c));
  };

  it("never reorders: each chunk leaves no earlier than the one before it", () => {
    const at = draw(7, { rttMs: 100, jitterMs: 60, loss: 0.05 }, 2000);
    for (let i = 1; i < at.length; i++) expect(at[i]).toBeGreaterThanOrEqual(at[i - 1]!);
  });

  it("draws the same delays from the same seed, and other ones from another", () => {
    const c = { rttMs: 100, jitterMs: 20, loss: 0.01 };
    expect(draw(3, c, 100)).toEqual(draw(3, c, 100));
    expect(draw(4, c, 100)).not.toEqual(draw(3, c, 100));
  });

  it("holds about the given fraction of chunks by the loss hold", () => {
    const line = new DelayLine(11);
    let held = 0;
    // Far apart, so no chunk waits behind another: a delay of the hold is the loss alone.
    for (let i = 0; i < 10_000; i++) if (line.schedule(i * 1000, { rttMs: 0, jitterMs: 0, loss: 0.01 }) - i * 1000 === LOSS_HOLD_MS) held++;
    expect(held).toBeGreaterThan(70);
    expect(held).toBeLessThan(130);
  });
});

describe("NetemProxy over real sockets", () => {
  let echo: Server | undefined;
  let proxy: NetemProxy | undefined;
  afterEach(async () => {
    await proxy?.stop();
    await new Promise((r) => (echo ? echo.close(r) : r(undefined)));
  });

  async function startEcho(): Promise<number> {
    echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo!.listen(0, "127.0.0.1", r));
    return (echo.address() as { port: number }).port;
  }

  it("carries every byte, in order, through jitter and loss", async () => {
    proxy = await NetemProxy.start({ target: { host: "127.0.0.1", port: await startEcho() }, conditions: { rttMs: 20, jitterMs: 10, loss: 0.05 }, seed: 5 });
    const socket = new Socket();
    await new Promise<void>((r) => socket.connect(proxy!.port, "127.0.0.1", r));
    const received: Buffer[] = [];
    socket.on("data", (b: Buffer) => received.push(b));
    const sent = Buffer.alloc(200 * 4);
    for (let i = 0; i < 200; i++) {
      sent.writeUInt32LE(i, i * 4);
      socket.write(sent.subarray(i * 4, i * 4 + 4));
      await new Promise((r) => setTimeout(r, 1));
    }
    await new Promise<void>((resolve) => {
      const check = () => (Buffer.concat(received).length >= sent.length ? resolve() : setTimeout(check, 10));
      check();
    });
    expect(Buffer.concat(received).equals(sent)).toBe(true);
    socket.destroy();
  });

  it("adds at least the round trip it is set to", async () => {
    proxy = await NetemProxy.start({ target: { host: "127.0.0.1", port: await startEcho() }, conditions: { rttMs: 120, jitterMs: 0, loss: 0 } });
    const socket = new Socket();
    await new Promise<void>((r) => socket.connect(proxy!.port, "127.0.0.1", r));
    const started = performance.now();
    socket.write("ping");
    await new Promise((r) => socket.once("data", r));
    // Only a lower bound: a slow machine adds time, it cannot take any away.
    expect(performance.now() - started).toBeGreaterThanOrEqual(119);
    socket.destroy();
  });
});
