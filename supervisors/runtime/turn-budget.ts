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
 */

/**
 * Chosen by measurement (bench/fairness.ts, test/reliability/fairness.test.ts,
 * 2 shared cores): see BUDGET_CHOICE below.
 */
export const TURN_BUDGET_MS = 4;

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
