/**
 * The oracle log: which data every operation added and which it had seen
 * and replaced. After a run, a token that an acknowledged operation added
 * must still exist somewhere (a file, a merged file, a conflict copy), unless
 * an operation that had seen it replaced it (a rewrite, an edit, a delete).
 *
 * An operation whose process was killed before it answered may or may not
 * have happened: its tokens are not required, and what it announced it would
 * replace is excused.
 *
 * A disk edit (another program saving or deleting a file on an instance's
 * disk, harness/disk-edit.ts) is an operation like any other: acknowledged
 * once it is on disk, with exactly the tokens a delete took away replaced.
 */

export interface OperationLog {
  /** The operation is about to replace these tokens (sent before acting). */
  intent(removed: readonly string[]): void;
  /** Acknowledged: its tokens must survive; exactly `removed` was replaced. */
  acked(removed: readonly string[]): void;
  /** Failed with an answer (an error): it changed nothing. */
  failed(): void;
  /** No answer (the process died): it may or may not have happened. */
  unknown(): void;
}

export interface LostToken {
  token: string;
  addedBy: string;
}

interface Entry {
  description: string;
  added: readonly string[];
  intents: string[];
  outcome: 'running' | 'acked' | 'failed' | 'unknown';
}

export class Oracle {
  private readonly entries: Entry[] = [];
  private readonly required = new Map<string, string>();
  private readonly excused = new Map<string, string>();

  /** Starts logging one operation that adds `added`. */
  begin(description: string, added: readonly string[]): OperationLog {
    const entry: Entry = { description, added, intents: [], outcome: 'running' };
    this.entries.push(entry);
    return {
      intent: (removed) => entry.intents.push(...removed),
      acked: (removed) => {
        entry.outcome = 'acked';
        for (const t of added) this.required.set(t, description);
        for (const t of removed) this.excused.set(t, description);
      },
      failed: () => {
        entry.outcome = 'failed';
      },
      unknown: () => {
        entry.outcome = 'unknown';
        for (const t of entry.intents) this.excused.set(t, `${description} (killed before it answered)`);
      },
    };
  }

  /** Operations still running are treated as unknown (their process is gone or the run ended). */
  settleRunning(): void {
    for (const entry of this.entries) {
      if (entry.outcome !== 'running') continue;
      entry.outcome = 'unknown';
      for (const t of entry.intents) this.excused.set(t, `${entry.description} (no answer)`);
    }
  }

  /** Required tokens that are nowhere in `present` and were not replaced by anyone who saw them. */
  lost(present: ReadonlySet<string>): LostToken[] {
    const lost: LostToken[] = [];
    for (const [token, addedBy] of this.required) {
      if (!present.has(token) && !this.excused.has(token)) lost.push({ token, addedBy });
    }
    return lost;
  }

  /** The operations that mention a token, for failure reports. */
  historyOf(token: string): string[] {
    return this.entries
      .filter((e) => e.added.includes(token) || e.intents.includes(token))
      .map((e) => `${e.description} [${e.outcome}]`);
  }

  counts(): { acked: number; failed: number; unknown: number; requiredTokens: number; excusedTokens: number } {
    const count = (outcome: Entry['outcome']) => this.entries.filter((e) => e.outcome === outcome).length;
    return {
      acked: count('acked'),
      failed: count('failed'),
      unknown: count('unknown'),
      requiredTokens: this.required.size,
      excusedTokens: this.excused.size,
    };
  }
}
