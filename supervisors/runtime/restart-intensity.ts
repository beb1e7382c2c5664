import { RuntimeError } from './errors.js';

export interface IntensityLimit {
  /** How many restarts are tolerated within the window; one more exceeds the limit. */
  maxRestarts: number;
  withinMs: number;
}

export const DEFAULT_INTENSITY: IntensityLimit = { maxRestarts: 3, withinMs: 5_000 };

/** The exit reason of a supervisor that gave up: its parent sees it as a crash. */
export class RestartIntensityError extends Error {
  constructor(supervisor: string, limit: IntensityLimit) {
    super(
      `supervisor ${supervisor}: restart intensity exceeded (more than ${limit.maxRestarts} restarts within ${limit.withinMs} ms)`,
    );
    this.name = 'RestartIntensityError';
  }
}

/**
 * OTP's restart intensity: a sliding window of restart times. More than
 * `maxRestarts` restarts within `withinMs` means the children keep failing and
 * restarting them further is pointless; the supervisor should give up.
 */
export class RestartIntensity {
  readonly limit: IntensityLimit;
  private readonly now: () => number;
  private restartTimes: number[] = [];

  constructor(limit: IntensityLimit = DEFAULT_INTENSITY, now: () => number = Date.now) {
    validateLimit(limit);
    this.limit = { ...limit };
    this.now = now;
  }

  /** Records one restart; returns false when it exceeds the limit. */
  allowRestart(): boolean {
    const now = this.now();
    const windowStart = now - this.limit.withinMs;
    this.restartTimes = this.restartTimes.filter((time) => time > windowStart);
    this.restartTimes.push(now);
    return this.restartTimes.length <= this.limit.maxRestarts;
  }
}

function validateLimit(limit: IntensityLimit): void {
  const { maxRestarts, withinMs } = limit;
  if (!Number.isSafeInteger(maxRestarts) || maxRestarts < 0) {
    throw new RuntimeError('EINVAL', `restart intensity maxRestarts must be an integer >= 0, got ${maxRestarts}`);
  }
  if (!(withinMs > 0) || !Number.isFinite(withinMs)) {
    throw new RuntimeError('EINVAL', `restart intensity withinMs must be a finite number > 0, got ${withinMs}`);
  }
}
