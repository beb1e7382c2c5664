import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { isUtf8 } from '../../content.js';
import { ScopeFsError } from '../../errors.js';
import type { EntryMeta } from '../../types.js';
import { withTarget } from '../connect.js';
import type { ScopeTarget } from '../target.js';
import { parseRevision } from './history.js';
import { addScopeOptions, parseCount, scopePath, UsageError, type ScopeCliOptions } from '../options.js';
import { columns, Output } from '../output.js';

const STORE_HELP = 'sync with this store while the command runs (only without a running serve)';

/** ls, cat, write, mv, rm, flush. */
export function fileCommands(): Command[] {
  return [ls(), cat(), write(), mv(), rm(), flush()];
}

function ls(): Command {
  return addScopeOptions(new Command('ls'), STORE_HELP)
    .description('list files (recursively) under a prefix')
    .argument('[prefix]', 'directory to list (relative paths start at /)', '/')
    .action((prefix: string, options: ScopeCliOptions) =>
      withTarget(options, {}, async (target) => {
        const files = await listOrFile(target, scopePath(prefix));
        if (files.length === 0 && scopePath(prefix) !== '/') {
          throw new ScopeFsError('ENOENT', `nothing under ${scopePath(prefix)}; scopefs ls / lists every file`);
        }
        new Output(options.json === true).result(files, () => listing(files));
      }),
    );
}

function cat(): Command {
  return addScopeOptions(new Command('cat'), STORE_HELP)
    .description('print a file (exact bytes; with --json, text or base64)')
    .argument('<path>', 'file to print, e.g. /notes/todo.md')
    .option('--revision <n>', 'print this earlier version (see scopefs log)', parseRevision)
    .action((path: string, options: ScopeCliOptions & { revision?: number }) =>
      withTarget(options, {}, async (target) => {
        const { bytes, revision } =
          options.revision === undefined ? await target.read(scopePath(path)) : { bytes: await target.history.cat(scopePath(path), options.revision), revision: options.revision };
        const output = new Output(options.json === true);
        if (!output.json) return output.bytes(bytes);
        const text = isUtf8(bytes);
        const content = Buffer.from(bytes).toString(text ? 'utf8' : 'base64');
        output.result({ path, revision, size: bytes.byteLength, encoding: text ? 'utf8' : 'base64', content }, () => '');
      }),
    );
}

function write(): Command {
  return addScopeOptions(new Command('write'), STORE_HELP)
    .description('write a file from --from FILE or from stdin')
    .argument('<path>', 'file to write, e.g. /notes/todo.md')
    .option('--from <file>', 'read the content from this local file')
    .option('--if-revision <n>', 'write only if the file is at this revision (0: only if it does not exist)', parseCount)
    .action((path: string, options: ScopeCliOptions & { from?: string; ifRevision?: number }) =>
      withTarget(options, { create: true }, async (target) => {
        const content = await inputContent(options.from);
        const meta = await target.write(scopePath(path), content, options.ifRevision);
        new Output(options.json === true).result(meta, () => `wrote ${meta.size} bytes to ${meta.path} (revision ${meta.revision})`);
      }),
    );
}

function mv(): Command {
  return addScopeOptions(new Command('mv'), STORE_HELP)
    .description('move a file, or every file under a directory')
    .argument('<from>', 'current path')
    .argument('<to>', 'new path')
    .action((from: string, to: string, options: ScopeCliOptions) =>
      withTarget(options, {}, async (target) => {
        const result = await target.move(scopePath(from), scopePath(to));
        new Output(options.json === true).result(result, () => result.moved.map(([a, b]) => `moved ${a} -> ${b}`));
      }),
    );
}

function rm(): Command {
  return addScopeOptions(new Command('rm'), STORE_HELP)
    .description('delete a file')
    .argument('<path>', 'file to delete')
    .action((path: string, options: ScopeCliOptions) =>
      withTarget(options, {}, async (target) => {
        await target.remove(scopePath(path));
        new Output(options.json === true).result({ deleted: path }, () => `deleted ${path}`);
      }),
    );
}

function flush(): Command {
  return addScopeOptions(new Command('flush'), STORE_HELP)
    .description('write every pending change to disk now')
    .action((options: ScopeCliOptions) =>
      withTarget(options, {}, async (target) => {
        const result = await target.flush();
        new Output(options.json === true).result(result, () => [
          `flushed ${result.flushed.length} files`,
          ...result.failed.map((failure) => `failed ${failure.path}: ${failure.error}`),
        ]);
        if (result.failed.length > 0) throw new ScopeFsError('EIO', `${result.failed.length} files could not be flushed`);
      }),
    );
}

async function inputContent(from: string | undefined): Promise<Uint8Array> {
  if (from !== undefined) return readFile(from);
  if (process.stdin.isTTY) throw new UsageError('give the content with --from FILE or on stdin (scopefs write /a.md < a.md)');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** What is under a directory, or, for a file's path, that file (as `ls` does). */
async function listOrFile(target: ScopeTarget, path: string): Promise<EntryMeta[]> {
  const under = await target.list(path);
  if (under.length > 0 || path === '/') return under;
  const parent = path.slice(0, path.lastIndexOf('/')) || '/';
  return (await target.list(parent)).filter((entry) => entry.path === path);
}

function listing(files: EntryMeta[]): string[] {
  return columns(files.map((file) => [String(file.size).padStart(8), new Date(file.modifiedAt).toISOString(), file.path]));
}
