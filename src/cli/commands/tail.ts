/**
 * `scopefs tail status` and `scopefs tail backfill`: the JSONL tail of the
 * running serve for the root (docs/tail.md). Tailing runs in the scope's
 * process, so both talk to the serve.
 */
import { Command, InvalidArgumentError } from 'commander';
import type { TailReport } from '../../tail/scope-tail.js';
import { columns, Output } from '../output.js';
import { backfillProgress, wantsProgress } from '../progress.js';
import { callServe } from '../serve-call.js';

interface TailCliOptions {
  root: string;
  token?: string;
  json?: boolean;
  source?: string;
  limit?: number;
}

const WHY = 'the tail runs in the serving scope';

export function tailCommand(): Command {
  const tail = new Command('tail').description('the JSONL tail of the running serve: status, backfill');
  tail.addCommand(
    withServeOptions(new Command('status'))
      .description('per source: files, offsets, lag in bytes and seconds, errors')
      .action(async (options: TailCliOptions) => {
        const status = await callServe<TailReport>(options, 'GET', '/v1/tail/status', undefined, WHY);
        new Output(options.json === true).result(status, () => describeStatus(status));
      }),
  );
  tail.addCommand(
    withServeOptions(new Command('backfill'))
      .description('read the files the start left (older than its bound), newest first')
      .option('--source <name>', 'only this source')
      .option('--limit <files>', 'at most this many files', positive)
      .action(async (options: TailCliOptions) => {
        const body = { ...(options.source ? { source: options.source } : {}), ...(options.limit ? { limit: options.limit } : {}) };
        const bar = wantsProgress(options.json) ? backfillProgress() : undefined;
        const poll = bar && setInterval(() => {
          void callServe<TailReport>(options, 'GET', '/v1/tail/status', undefined, WHY).then((s) => bar.update(s.backfill.done, s.backfill.files), () => undefined);
        }, 200);
        try {
          const answer = await callServe<{ files: number }>(options, 'POST', '/v1/tail/backfill', body, WHY);
          bar?.update(answer.files, answer.files);
          bar?.stop();
          new Output(options.json === true).result(answer, () => `read ${answer.files} file${answer.files === 1 ? '' : 's'}`);
        } finally {
          clearInterval(poll);
          bar?.stop();
        }
      }),
  );
  return tail;
}

function withServeOptions(command: Command): Command {
  return command
    .option('--root <dir>', 'the workspace directory of the running serve', './workspace')
    .option('--token <token>', 'bearer token for the running serve (default: SCOPEFS_TOKEN, then its token file)')
    .option('--json', 'machine-readable output');
}

function describeStatus(status: TailReport): string[] {
  if (status.sources.length === 0 && status.configErrors.length === 0) return ['no tail sources (see docs/tail.md)'];
  const lines: string[] = [];
  for (const source of status.sources) {
    lines.push(`${source.source}  ${source.base}  ${source.files.length} files, ${source.pending} waiting for backfill, lag ${source.lagBytes} B / ${(source.lagMs / 1000).toFixed(1)} s`);
    lines.push(...columns(source.files.map((f) => [`  ${f.file}`, `offset ${f.offset}/${f.size}`, `${f.lines} lines`, f.error ? `error: ${f.error}` : ''])));
    for (const error of source.errors) lines.push(`  error: ${error}`);
  }
  for (const error of status.configErrors) lines.push(`config: ${error}`);
  if (status.backfill.running) lines.push(`backfill: ${status.backfill.done}/${status.backfill.files} files`);
  return lines;
}

function positive(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || !Number.isSafeInteger(n)) throw new InvalidArgumentError('a positive whole number');
  return n;
}
