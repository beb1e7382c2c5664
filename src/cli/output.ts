import { errorMessage, isScopeFsError } from '../errors.js';
import { redactSecrets } from '../redact.js';
import { UsageError } from './options.js';

/** Prints a command's result: JSON for scripts (`--json`), lines for people. */
export class Output {
  constructor(readonly json: boolean) {}

  result(data: unknown, human: () => string | string[]): void {
    if (this.json) {
      process.stdout.write(`${JSON.stringify(data)}\n`);
      return;
    }
    const lines = human();
    const text = Array.isArray(lines) ? lines.join('\n') : lines;
    if (text !== '') process.stdout.write(`${text}\n`);
  }

  bytes(content: Uint8Array): void {
    process.stdout.write(content);
  }

  /** A notice for people that is not part of the result (stderr, so pipes stay clean). */
  note(message: string): void {
    if (!this.json) process.stderr.write(`${message}\n`);
  }
}

/** Prints an error to stderr and returns the exit code: 2 for usage errors, 1 for the rest. */
export function reportError(err: unknown, json: boolean): number {
  const usage = err instanceof UsageError;
  const code = isScopeFsError(err) ? err.code : usage ? 'EUSAGE' : 'EFAILED';
  // A message may quote a store URL (a driver's error, say): never print its secrets.
  const message = redactSecrets(errorMessage(err));
  if (json) process.stderr.write(`${JSON.stringify({ error: { code, message } })}\n`);
  else process.stderr.write(`scopefs: ${message}${usage ? '\n(see scopefs --help)' : ''}\n`);
  return usage ? 2 : 1;
}

/** A table of rows with left-aligned columns. */
export function columns(rows: string[][]): string[] {
  const widths = rows.reduce<number[]>((acc, row) => row.map((cell, i) => Math.max(acc[i] ?? 0, cell.length)), []);
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}
