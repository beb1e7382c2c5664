import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import type { ScopeStatus } from '../../http/status.js';
import type { ChildInfo } from '../../types.js';
import type { ConflictRecord, ConflictResolution, SyncStatus } from '../../sync/types.js';
import { SYNC_CONTROLS, type SyncControl } from '../../http/routes/sync.js';
import { withTarget } from '../connect.js';
import { addScopeOptions, scopePath, UsageError, type ScopeCliOptions } from '../options.js';
import { columns, Output } from '../output.js';

const SETTLE_MS = 30_000;
const STATUS_STORE_HELP = 'report sync against this store (only without a running serve)';
const SYNC_STORE_HELP = 'store to sync with when no serve is running (default: the sqlite store beside the root)';

/** status, conflicts, resolve, and `sync pause|resume|confirm|resync`. */
export function syncCommands(): Command[] {
  return [status(), conflicts(), resolve(), syncControls()];
}

const CONTROL_HELP: Record<SyncControl, string> = {
  pause: 'pause syncing (local edits keep working and are pushed once resumed)',
  resume: 'resume a paused sync (a pass held by the safety gate stays held: confirm it)',
  confirm: 'let the pass the safety gate held go ahead (its deletions reach every instance)',
  resync: 'reconcile every file with the store now (a full pass)',
};

/** `scopefs sync <control>`: the operator controls of a running serve (resync also works without one). */
function syncControls(): Command {
  const group = new Command('sync').description('control a running serve\'s sync: pause, resume, confirm, resync');
  for (const control of SYNC_CONTROLS) {
    const command = addScopeOptions(new Command(control), SYNC_STORE_HELP)
      .description(CONTROL_HELP[control])
      .action((options: ScopeCliOptions) =>
        withTarget(options, { sync: true }, async (target) => {
          const output = new Output(options.json === true);
          const outcome = await target.control(control);
          if (target.mode === 'direct' && !(await target.settle(SETTLE_MS))) output.note('sync did not catch up in time');
          const status = target.mode === 'direct' ? (await target.status()).sync : outcome.status;
          output.result({ ...outcome, status }, () => describeControl(outcome.control, outcome.ran, outcome.status));
        }),
      );
    group.addCommand(command.exitOverride().showHelpAfterError());
  }
  return group;
}

function describeControl(control: SyncControl, ran: boolean | undefined, status: SyncStatus): string[] {
  const head = control === 'resync' && ran === false ? 'store not connected: the full pass runs once it is' : `${control}: done`;
  const lines = [`${head}; sync is ${status.state}, ${status.pending.length} pending, ${status.conflicts.length} conflicts`];
  if (status.pausedReason) lines.push(`paused: ${status.pausedReason}`);
  return lines;
}

function status(): Command {
  return addScopeOptions(new Command('status'), STATUS_STORE_HELP)
    .description('show sync state, file counts and the supervision tree')
    .action((options: ScopeCliOptions) =>
      withTarget(options, {}, async (target) => {
        const report = await target.status();
        new Output(options.json === true).result({ ...report, via: target.mode }, () => describeStatus(report, target.mode));
      }),
    );
}

function conflicts(): Command {
  return addScopeOptions(new Command('conflicts'), SYNC_STORE_HELP)
    .description('list unresolved sync conflicts')
    .action((options: ScopeCliOptions) =>
      withTarget(options, { sync: true }, async (target) => {
        const output = new Output(options.json === true);
        if (!(await target.settle(SETTLE_MS))) output.note('sync did not catch up in time; the list may be incomplete');
        const list = await target.conflicts();
        output.result(list, () => describeConflicts(list));
      }),
    );
}

function resolve(): Command {
  return addScopeOptions(new Command('resolve'), SYNC_STORE_HELP)
    .description('resolve a conflict: --keep local|remote, or --from FILE with the merged content')
    .argument('<path>', 'the conflicting file')
    .addOption(new Option('--keep <side>', 'which side to keep').choices(['local', 'remote']))
    .option('--from <file>', 'the merged content to keep')
    .action((path: string, options: ScopeCliOptions & { keep?: 'local' | 'remote'; from?: string }) => {
      if ((options.keep === undefined) === (options.from === undefined)) {
        throw new UsageError('resolve needs exactly one of --keep local|remote and --from FILE');
      }
      return withTarget(options, { sync: true }, async (target) => {
        const resolution: ConflictResolution = options.keep ?? { content: await readFile(options.from!) };
        const output = new Output(options.json === true);
        await target.resolve(scopePath(path), resolution);
        if (!(await target.settle(SETTLE_MS))) output.note('resolved locally; it will reach the store on the next sync');
        output.result({ resolved: path }, () => `resolved ${path}`);
      });
    });
}

function describeStatus(report: ScopeStatus, via: string): string[] {
  const { sync, files } = report;
  const syncLine = !sync.enabled
    ? 'off'
    : 'instanceId' in sync
      ? `${sync.state} (${sync.connected ? 'connected' : 'not connected'}) store ${sync.store}, cursor ${sync.cursor}, instance ${sync.instanceId}`
      : 'restarting';
  const lines = [
    ...columns([
      ['scope', report.scope],
      ['root', report.root ?? '(memory only)'],
      ['via', via === 'serve' ? 'the running serve' : 'opened directly'],
      ['sync', syncLine],
    ]),
  ];
  if (sync.enabled && 'instanceId' in sync) {
    lines.push(`conflicts ${sync.conflicts.length}, pending ${sync.pending.length}, failed ${sync.failedPaths.length}`);
    if (sync.pausedReason) lines.push(`paused: ${sync.pausedReason}`);
    if (sync.error) lines.push(`last error: ${sync.error}`);
  }
  lines.push(`files ${files.total} (${files.dirty} not yet on disk, ${files.totalSize} bytes)`, 'tree');
  lines.push(...columns(flattenTree(report.tree, 1)));
  return lines;
}

function flattenTree(children: ChildInfo[], depth: number): string[][] {
  return children.flatMap((child) => [
    [`${'  '.repeat(depth)}${child.id}`, child.status, `restarts ${child.restarts}`],
    ...flattenTree(child.children ?? [], depth + 1),
  ]);
}

function describeConflicts(list: ConflictRecord[]): string[] {
  if (list.length === 0) return ['no conflicts'];
  return list.map((c) => `${c.path}  (other version: ${c.copyPath}, from ${c.remoteInstance} at ${c.detectedAt})`);
}
