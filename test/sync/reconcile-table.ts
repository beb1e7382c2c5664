import { CONTESTED_CASES, RECONCILE_TABLE, STRATEGY_ACTIONS } from '../../src/sync/reconcile.js';
import { CONFLICT_STRATEGIES } from '../../src/sync/strategies.js';

/** RECONCILE_TABLE as the markdown table docs/sync.md shows (`node --import tsx test/sync/reconcile-table.ts` prints it). */
export function reconcileTableMarkdown(): string {
  const header = ['| base | local | remote | case | action | meaning |', '| --- | --- | --- | --- | --- | --- |'];
  const rows = RECONCILE_TABLE.map(
    (r) => `| ${r.base} | ${r.local} | ${r.remote} | \`${r.case}\` | **${r.action}** | ${r.meaning} |`,
  );
  return [...header, ...rows].join('\n');
}

/** STRATEGY_ACTIONS as the markdown table docs/sync.md shows ("Conflict strategies"). */
export function strategyTableMarkdown(): string {
  const header = [`| case | ${CONFLICT_STRATEGIES.join(' | ')} |`, `| --- |${' --- |'.repeat(CONFLICT_STRATEGIES.length)}`];
  const rows = CONTESTED_CASES.map((kase) => `| \`${kase}\` | ${CONFLICT_STRATEGIES.map((s) => `**${STRATEGY_ACTIONS[s][kase]}**`).join(' | ')} |`);
  return [...header, ...rows].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(`${reconcileTableMarkdown()}\n\n${strategyTableMarkdown()}`);
