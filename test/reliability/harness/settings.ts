/**
 * Run sizes and seeds, from the environment:
 *
 *   SCOPEFS_LONG=1        soak mode: many more seeds, longer programs, longer faults
 *   SCOPEFS_SEED=1234     run exactly this seed (to reproduce a failure)
 *   SCOPEFS_SEEDS=500     how many seeds to run
 *   SCOPEFS_SEED_BASE=7   first seed (default: the suite's own; soak mode picks one from the clock)
 */
export const LONG = process.env.SCOPEFS_LONG === '1';

function intFromEnv(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  return value;
}

/** The seeds to run: SCOPEFS_SEED alone, or a consecutive range (test names show each seed). */
export function seeds(defaultCount: number, longCount: number, defaultBase = 1): number[] {
  const single = intFromEnv('SCOPEFS_SEED');
  if (single !== undefined) return [single];
  const count = intFromEnv('SCOPEFS_SEEDS') ?? (LONG ? longCount : defaultCount);
  const base = intFromEnv('SCOPEFS_SEED_BASE') ?? (LONG ? Date.now() % 1_000_000_000 : defaultBase);
  return Array.from({ length: count }, (_, i) => base + i);
}

/** How to run one seed of a suite again. */
export function rerunHint(file: string, seed: number): string {
  return `rerun this seed: SCOPEFS_SEED=${seed}${LONG ? ' SCOPEFS_LONG=1' : ''} npx vitest run ${file}`;
}

/** Prints a suite's figures in one greppable line (docs/reliability.md quotes them). */
export function printFigures(suite: string, figures: Record<string, number | string>): void {
  const text = Object.entries(figures)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
  console.log(`[reliability] ${suite}: ${text}`);
}
