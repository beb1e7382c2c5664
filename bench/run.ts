/**
 * Runs every benchmark in sequence and prints one table,
 * then the same table as Markdown for docs/benchmarks.md.
 *   node --expose-gc --import tsx bench/run.ts   (large-file reads RSS after a gc)
 */
import { markdownTable, printRows, type BenchRow } from './lib.js';
import { run as read } from './fs-read.js';
import { run as write } from './fs-write.js';
import { run as debounce } from './fs-debounce.js';
import { run as index } from './fs-index.js';
import { run as syncLatency } from './sync-latency.js';
import { run as syncInitial } from './sync-initial.js';
import { run as syncSteady } from './sync-steady.js';
import { run as fairness } from './fairness.js';
import { run as startup } from './import.js';
import { runHistoryBench as history } from './history.js';
import { runHistoryOverheadBench as historyOverhead } from './history-overhead.js';
import { runTransactionsBench as transactions } from './transactions.js';
import { run as audit } from './audit.js';
import { run as locks } from './locks.js';
import { runSearchBench as search } from './search.js';
import { run as httpTokens } from './http-tokens.js';
import { run as strategies } from './strategies.js';
import { run as manyScopes } from './many-scopes.js';
import { run as outsideEdit } from './sync-outside-edit.js';
import { run as largeFile } from './large-file.js';
import { run as fsClose } from './fs-close.js';
import { run as tail } from './tail.js';
import { run as webhooks } from './webhooks.js';
import { run as tenants } from './tenants.js';
import { run as dashboard } from './dashboard.js';
import { run as watcherStart } from './watcher-start.js';

const benches: Array<[string, () => Promise<BenchRow[]>]> = [
  ['read', read],
  ['write', write],
  ['debounce', debounce],
  ['index', index],
  ['sync-latency', syncLatency],
  ['sync-initial', syncInitial],
  ['sync-steady', syncSteady],
  ['fairness', fairness],
  ['import', startup],
  ['history', history],
  ['history-overhead', historyOverhead],
  ['transactions', transactions],
  ['audit', audit],
  ['locks', locks],
  ['search', search],
  ['http-tokens', httpTokens],
  ['strategies', strategies],
  ['many-scopes', manyScopes],
  ['sync-outside-edit', () => outsideEdit()],
  ['large-file', () => largeFile()],
  ['fs-close', () => fsClose()],
  ['tail', tail],
  ['webhooks', webhooks],
  ['tenants', () => tenants()],
  ['dashboard', () => dashboard()],
  ['watcher-start', () => watcherStart()],
];

const rows: BenchRow[] = [];
for (const [name, bench] of benches) {
  console.error(`running ${name}...`);
  rows.push(...(await bench()));
}
printRows(rows);
console.log(`\n${markdownTable(rows)}`);
const missed = rows.filter((r) => r.pass === false);
if (missed.length > 0) {
  console.log(`\n${missed.length} goal(s) missed: ${missed.map((r) => `${r.bench}: ${r.metric}`).join('; ')}`);
  process.exitCode = 1;
}
