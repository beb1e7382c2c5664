/** log, cat --revision (in files.ts), restore, checkpoint, checkpoints [--delete], rollback (docs/history.md). */
import { Command, InvalidArgumentError } from 'commander';
import type { CheckpointInfo, CheckpointRestore, HistoryVersion } from '../../types.js';
import { withTarget } from '../connect.js';
import { addScopeOptions, parseCount, type ScopeCliOptions } from '../options.js';
import { columns, Output } from '../output.js';

const STORE_HELP = 'sync with this store while the command runs (only without a running serve)';

export function historyCommands(): Command[] {
  return [log(), restore(), checkpoint(), checkpoints(), rollback()];
}

function log(): Command {
  return addScopeOptions(new Command('log'), STORE_HELP)
    .description('list the versions of a file, newest first (read one with: scopefs cat <path> --revision N)')
    .argument('<path>', 'file, e.g. /notes/todo.md')
    .option('--limit <n>', 'at most this many versions', parseCount)
    .action((path: string, options: ScopeCliOptions & { limit?: number }) =>
      withTarget(options, {}, async (target) => {
        const versions = await target.history.log(path, options.limit);
        new Output(options.json === true).result(versions, () => (versions.length === 0 ? `no history for ${path}` : versionLines(versions)));
      }),
    );
}

function restore(): Command {
  return addScopeOptions(new Command('restore'), STORE_HELP)
    .description('write an earlier version of a file as a new one (also undeletes it)')
    .argument('<path>', 'file to restore')
    .requiredOption('--revision <n>', 'the revision from scopefs log', parseRevision)
    .action((path: string, options: ScopeCliOptions & { revision: number }) =>
      withTarget(options, {}, async (target) => {
        const meta = await target.history.restore(path, options.revision);
        new Output(options.json === true).result(meta, () => `restored ${meta.path} to revision ${options.revision} (now revision ${meta.revision})`);
      }),
    );
}

function checkpoint(): Command {
  return addScopeOptions(new Command('checkpoint'), STORE_HELP)
    .description('save a named checkpoint of every file (or those under --prefix)')
    .argument('[name]', 'unique name (default: checkpoint-<time>)')
    .option('-m, --message <text>', 'what state this is')
    .option('--prefix <dir>', 'only files under this directory')
    .action((name: string | undefined, options: ScopeCliOptions & { message?: string; prefix?: string }) =>
      withTarget(options, {}, async (target) => {
        const info = await target.history.checkpoint(name, { ...pick(options, 'message'), ...pick(options, 'prefix') });
        new Output(options.json === true).result(info, () => `saved checkpoint ${info.name}: ${info.fileCount} files under ${info.prefix}`);
      }),
    );
}

function checkpoints(): Command {
  return addScopeOptions(new Command('checkpoints'), STORE_HELP)
    .description('list checkpoints, newest first; --delete <name> deletes one (retention may then prune the versions only it kept)')
    .option('--delete <name>', 'delete this checkpoint instead of listing')
    .action((options: ScopeCliOptions & { delete?: string }) =>
      withTarget(options, {}, async (target) => {
        if (options.delete !== undefined) {
          const name = options.delete;
          await target.history.deleteCheckpoint(name);
          new Output(options.json === true).result({ deleted: name }, () => `deleted checkpoint ${name}`);
          return;
        }
        const list = await target.history.checkpoints();
        new Output(options.json === true).result(list, () => (list.length === 0 ? 'no checkpoints' : checkpointLines(list)));
      }),
    );
}

function rollback(): Command {
  return addScopeOptions(new Command('rollback'), STORE_HELP)
    .description('bring the files back to a checkpoint (as ordinary changes, so they sync); try --dry-run first')
    .argument('<name>', 'the checkpoint (see scopefs checkpoints)')
    .option('--prefix <dir>', 'only files under this directory')
    .option('--dry-run', 'only show what would change')
    .action((name: string, options: ScopeCliOptions & { prefix?: string; dryRun?: boolean }) =>
      withTarget(options, {}, async (target) => {
        const result = await target.history.rollback(name, { ...pick(options, 'prefix'), dryRun: options.dryRun === true });
        new Output(options.json === true).result(result, () => restoreLines(result));
      }),
    );
}

function versionLines(versions: HistoryVersion[]): string[] {
  return columns(
    versions.map((v) => [
      String(v.revision),
      new Date(v.at).toISOString(),
      v.deleted ? 'deleted' : String(v.size).padStart(8),
      [v.origin, v.actor, v.instance].filter(Boolean).join(' '),
    ]),
  );
}

function checkpointLines(list: CheckpointInfo[]): string[] {
  return columns(list.map((c) => [c.name, new Date(c.at).toISOString(), `${c.fileCount} files`, c.prefix, c.message ?? '']));
}

function restoreLines(result: CheckpointRestore): string[] {
  const verb = result.dryRun ? 'would ' : '';
  return [
    ...result.written.map((path) => `${verb}write ${path}`),
    ...result.created.map((path) => `${verb}create ${path}`),
    ...result.deleted.map((path) => `${verb}delete ${path}`),
    `${result.dryRun ? 'dry run: ' : ''}${result.written.length + result.created.length + result.deleted.length} changes, ${result.unchanged} unchanged (checkpoint ${result.checkpoint})`,
  ];
}

export function parseRevision(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('expected a revision number from scopefs log');
  return n;
}

function pick<K extends string>(options: Partial<Record<K, string>>, key: K): Partial<Record<K, string>> {
  const value = options[key];
  return value === undefined ? {} : ({ [key]: value } as Partial<Record<K, string>>);
}
