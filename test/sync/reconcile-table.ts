import { RECONCILE_TABLE } from '../../src/sync/reconcile.js';

/** RECONCILE_TABLE as the markdown table docs/sync.md shows (`node --import tsx test/sync/reconcile-table.ts` prints it). */
export function reconcileTableMarkdown(): string {
  const header = ['| base | local | remote | case | action | meaning |', '| --- | --- | --- | --- | --- | --- |'];
  const rows = RECONCILE_TABLE.map(
    (r) => `| ${r.base} | ${r.local} | ${r.remote} | \`${r.case}\` | **${r.action}** | ${r.meaning} |`,
  );
  return [...header, ...rows].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(reconcileTableMarkdown());
