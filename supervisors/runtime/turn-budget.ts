/**
 * The event loop's share of the process. An actor whose callers await it in a
 * tight loop is answered through microtasks only, and microtasks run before
 * any timer, I/O callback or other scope gets a turn. So the runtime keeps a
 * budget: once work has run for `TURN_BUDGET_MS` without the event loop
 * reaching its check phase, `overBudget()` says so and the caller waits for
 * `nextTurn()` (a setImmediate) before going on. Timers, I/O and every other
 * actor then run before the rest of the burst.
 *
 * The budget is shared by the whole runtime, not per actor: two busy scopes
 * together get one budget per turn, so neither can hold a third one back by
 * more than that.
 */
export const TURN_BUDGET_MS = 4;

let burstStart = 0;
let turnMarkPending = false;

function markTurn(): void {
  turnMarkPending = false;
}

/**
 * True when the current burst of work has used up its budget. The first
 * check after the event loop's check phase starts a new burst (and is never
 * over budget), so an isolated call never waits.
 */
export function overBudget(now: number = performance.now()): boolean {
  if (!turnMarkPending) {
    turnMarkPending = true;
    burstStart = now;
    setImmediate(markTurn);
    return false;
  }
  return now - burstStart >= TURN_BUDGET_MS;
}

/** Resolves after the event loop has had a turn (timers, I/O, other actors). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
