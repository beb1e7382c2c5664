import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface LogRecord {
  level: string;
  time: string;
  msg: string;
  event?: string;
  [key: string]: unknown;
}

/** Collects the JSON log records a child writes to stderr; `next` waits for one (event-driven, bounded). */
export class LogLines {
  readonly records: LogRecord[] = [];
  private waiters: Array<{ match: (r: LogRecord) => boolean; resolve: (r: LogRecord) => void }> = [];

  /** `earlier`: what the child wrote to stderr before this was made (ServeProcess.stderr()). */
  constructor(child: ChildProcess, earlier = '') {
    for (const line of earlier.split('\n')) if (line.startsWith('{') && line.endsWith('}')) this.records.push(JSON.parse(line) as LogRecord);
    createInterface({ input: child.stderr! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const record = JSON.parse(line) as LogRecord;
      this.records.push(record);
      for (const waiter of [...this.waiters]) {
        if (waiter.match(record)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(record);
        }
      }
    });
  }

  /** How many records are in so far: `next(match, { since })` looks from there on. */
  get mark(): number {
    return this.records.length;
  }

  /**
   * The first record from now on that matches; with `seen: true` also one
   * already in, with `since` one that came in after that mark (a line the
   * child wrote while the caller awaited a response is not missed).
   */
  next(match: (r: LogRecord) => boolean, options: { timeoutMs?: number; seen?: boolean; since?: number } = {}): Promise<LogRecord> {
    const from = options.since ?? (options.seen ? 0 : this.records.length);
    const earlier = this.records.slice(from).find(match);
    if (earlier) return Promise.resolve(earlier);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const events = this.records.map((r) => r.event ?? r.msg).join(', ');
        reject(new Error(`no matching log line in time; seen: ${events}`));
      }, options.timeoutMs ?? 20_000); // shorter than a test's timeout, so this message is what fails it
      this.waiters.push({ match, resolve: (r) => (clearTimeout(timer), resolve(r)) });
    });
  }
}

export const event = (name: string) => (record: LogRecord) => record.event === name;
