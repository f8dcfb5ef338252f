/**
 * One patch per callback of a room's fixed-step loop. A late loop runs a room's steps back to back
 * in one callback; their patch goes out once, after the last of them (a microtask, which Node runs
 * as the callback returns), as Colyseus's own patch timer does: a patch each would write every
 * socket again for state no client draws, where the loop can least afford it.
 *
 * The patch is sent outside the step's callback and so outside Colyseus's guard of it: a throw
 * while encoding or sending is handed to `failed` (the room reports it as a throw in its step
 * would be) rather than escaping the microtask, where it would take the node and all its rooms.
 */
export interface StepPatcherDeps {
  /** One step's budget: a patch whose steps and send took longer than theirs is an overrun. */
  readonly budgetMs: number;
  /** False once the room stopped: steps run before then are not patched. */
  readonly running: () => boolean;
  readonly send: () => void;
  /** Each patch sent: its steps' time and the send's, and whether that passed its steps' budget. */
  readonly sent: (tookMs: number, overBudget: boolean) => void;
  readonly failed: (error: Error) => void;
}

export class StepPatcher {
  private readonly deps: StepPatcherDeps;
  private steps = 0;
  private stepsMs = 0;

  constructor(deps: StepPatcherDeps) {
    this.deps = deps;
  }

  /** A step just ran and took `ms`; the first of a callback's steps queues its patch. */
  stepped(ms: number): void {
    this.stepsMs += ms;
    if (++this.steps === 1) queueMicrotask(this.patch);
  }

  private readonly patch = (): void => {
    const { steps, stepsMs, deps } = this;
    this.steps = 0;
    this.stepsMs = 0;
    if (!deps.running()) return;
    const started = performance.now();
    try {
      deps.send();
    } catch (err) {
      deps.failed(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const tookMs = stepsMs + performance.now() - started;
    deps.sent(tookMs, tookMs > deps.budgetMs * steps);
  };
}
