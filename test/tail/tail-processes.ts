/** Child processes for the tail tests: a JSONL writer and a tailing scope (both in test/tail/fixtures/). */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const WRITER = fileURLToPath(new URL('./fixtures/writer.mjs', import.meta.url));
const TAILER = fileURLToPath(new URL('./fixtures/tail-child.ts', import.meta.url));

export interface Writer {
  write(file: string, text: string): Promise<void>;
  truncate(file: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  close(): Promise<void>;
}

export function startWriter(): Writer {
  const child = spawn(process.execPath, [WRITER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const answers: Array<(ok: { ok: boolean; error?: string }) => void> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => answers.shift()?.(JSON.parse(line)));
  const send = (command: Record<string, unknown>) =>
    new Promise<void>((resolve, reject) => {
      answers.push((answer) => (answer.ok ? resolve() : reject(new Error(answer.error))));
      child.stdin!.write(`${JSON.stringify(command)}\n`);
    });
  return {
    write: (file, text) => send({ op: 'write', file, text }),
    truncate: (file) => send({ op: 'truncate', file }),
    rename: (from, to) => send({ op: 'rename', from, to }),
    close: async () => {
      child.stdin!.end();
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

export interface TailChild {
  child: ChildProcess;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTailChild(config: { root: string; glob: string; store?: string; app?: string }): Promise<TailChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', TAILER, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`tail child exited (${code}) before ready: ${stderr}`)));
    createInterface({ input: child.stdout! }).once('line', () => resolve());
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      child.stdin!.write('stop\n');
      await exited;
    },
  };
}
