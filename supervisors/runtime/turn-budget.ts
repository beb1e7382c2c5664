/**
 * The event loop's share of the process. An actor whose callers await it in a
 * tight loop is answered through microtasks only, and microtasks run before
 * any timer, I/O callback or other scope gets a turn. So the runtime keeps a
 * budget: once work has run for the budget without the event loop reaching
 * its check phase, `overBudget()` says so and the caller waits for
 * `nextTurn()` before going on. Timers, I/O and every other actor then run
 * before the rest of the burst.
 *
 * The budget is shared by the whole runtime, not per actor: two busy scopes
 * together get one budget per turn, so neither can hold a third one back by
 * more than that. Everyone waiting for a turn is resumed from one
 * setImmediate, so their microtask chains interleave and the busy ones share
 * the next budget message by message. (One setImmediate each would not do:
 * Node runs all microtasks after each immediate, so the first waiter would
 * spend the whole budget and every later one would find it spent, turn after
 * turn.) A resumed waiter goes on without asking again, so a call that had to
 * wait is handled in the next turn, whatever else is busy.
 *
 * A turn is thus at most the budget plus one message per busy actor. The
 * budget cannot split a message: a handler's synchronous step (a journal
 * append with its fsync, a journal rewrite, a 50 MiB record) runs whole, so
 * keeping each such step short is the write path's job, not the runtime's.
 */

/**
 * 1 ms, chosen by measurement (2 shared cores; bench/fairness.ts and
 * test/reliability/fairness.serial.test.ts):
 * - What a turn costs is small and fixed: 2-5 µs of CPU for an empty one
 *   (setImmediate, epoll, the resumed microtasks). At 1 ms that is under
 *   0.5% of a busy loop, at 4 ms about 0.1%: the 10% throughput goal holds
 *   for any of 1, 2, 4 or 8 ms, and the wall-clock ratios measured (0.8× to
 *   1.2× either way) were the neighbours' noise, not the budget.
 * - What the budget buys shrinks as it grows: a 10 ms interval fires late by
 *   about half a budget on average, and the rest of the process waits up to a
 *   whole one. A loop spinning in slices of 1, 2 and 4 ms between
 *   setImmediates kept 69%, 59% and 55% of a 10 ms interval's ticks on the
 *   loaded machine (an idle process: 80%).
 * - The clock read per check (performance.now()) is the same at any budget:
 *   a fast-path read of a loaded file measured 154 ns with it, 151 ns with
 *   the budget off.
 * So the smallest budget that keeps the cost of a turn negligible.
 */
export const TURN_BUDGET_MS = 1;

let budgetMs = TURN_BUDGET_MS;
let burstStart = 0;
/** A turn() is scheduled: a burst is running, or waiters are queued for it. */
let turnScheduled = false;
let waiters: Array<() => void> = [];

/**
 * True when the current burst of work has used up its budget. The first
 * check after the event loop's check phase starts a new burst (and is never
 * over budget), so an isolated call never waits.
 */
export function overBudget(now?: number): boolean {
  if (budgetMs === Number.POSITIVE_INFINITY) return false; // switched off: not even the clock is read
  now ??= performance.now();
  if (!turnScheduled) {
    burstStart = now;
    scheduleTurn();
    return false;
  }
  return now - burstStart >= budgetMs;
}

/** Resolves after the event loop has had a turn (timers, I/O, other actors). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => {
    waiters.push(resolve);
    scheduleTurn();
  });
}

/**
 * Sets the budget; Infinity switches it off. For measurements only (the
 * benchmark's baseline): production code keeps TURN_BUDGET_MS.
 */
export function setTurnBudgetMs(ms: number): void {
  if (!(ms > 0)) throw new RangeError(`a turn budget must be positive, not ${ms}`);
  budgetMs = ms;
}

function scheduleTurn(): void {
  if (turnScheduled) return;
  turnScheduled = true;
  setImmediate(turn);
}

/** The check phase: the burst is over; whoever waited starts the next one together. */
function turn(): void {
  turnScheduled = false;
  const resumed = waiters;
  if (resumed.length === 0) return;
  waiters = [];
  burstStart = performance.now();
  scheduleTurn();
  for (const resume of resumed) resume();
}
