/**
 * The start's tail backfill as a progress bar in `scopefs serve` (after the
 * initial sync's bar, so two bars never share the terminal): files read out
 * of those the start chose, from the scope's tail status.
 */
import type { ScopeHandle } from '../types.js';
import { backfillProgress } from './progress.js';

const POLL_MS = 100;

export function followStartBackfill(scope: Pick<ScopeHandle, 'tail'>, after: Promise<void> = Promise.resolve()): { stop(): void } {
  const bar = backfillProgress();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const stop = () => {
    stopped = true;
    clearInterval(timer);
    bar.stop();
  };
  void after.then(() => {
    if (stopped || !scope.tail || scope.tail.status().sources.length === 0) return;
    timer = setInterval(() => {
      const { backfill } = scope.tail!.status();
      if (backfill.files > 0) bar.update(backfill.done, backfill.files);
      if (!backfill.running && backfill.done === backfill.files) stop();
    }, POLL_MS);
  });
  return { stop };
}
