import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root: children run there so `--import tsx` resolves. */
export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
export const NODE_ARGS = ['--import', 'tsx', CLI];

const START_TIMEOUT_MS = 45_000;

/** The environment children get: ours without settings that would change what they do. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('SCOPEFS_') && !key.startsWith('FILE_SYNC_')) env[key] = value;
  }
  return { ...env, ...extra };
}

export interface CliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs `scopefs <args>` to completion. */
export async function runCli(args: string[], options: { input?: string | Buffer; env?: Record<string, string> } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd: REPO, env: childEnv(options.env) });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdin.end(options.input);
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8') };
}

/** What `serve --json` prints once it listens. */
export interface Listening {
  event: 'listening';
  url: string;
  host: string;
  port: number;
  pid: number;
  root: string;
  store: string | null;
  tokenFile: string | null;
  auth: boolean;
  mcp: string;
}

export interface ServeProcess {
  child: ChildProcess;
  info: Listening;
  /** Everything printed so far. */
  stdout(): string;
  stderr(): string;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `scopefs serve --json <args>` and resolves once it printed where it listens. */
export async function startServe(args: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [...NODE_ARGS, 'serve', '--json', ...args], { cwd: REPO, env: childEnv(env) });
  const errors: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => errors.push(chunk));
  const stderr = () => Buffer.concat(errors).toString('utf8');
  const printed: string[] = [];
  const exited = once(child, 'exit') as Promise<[number | null]>;
  const lines = createInterface({ input: child.stdout });
  const info = await new Promise<Listening>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // a serve that never said where it listens must not outlive the test
      reject(new Error(`serve did not start in time: ${stderr()}`));
    }, START_TIMEOUT_MS);
    lines.on('line', (line) => {
      printed.push(`${line}\n`);
      const parsed = JSON.parse(line) as { event?: string };
      if (parsed.event === 'listening') {
        clearTimeout(timer);
        resolve(parsed as Listening);
      }
    });
    void exited.then(([code]) => reject(new Error(`serve exited with ${code} before listening: ${stderr()}`)));
  });
  return {
    child,
    info,
    stdout: () => printed.join(''),
    stderr,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const [code] = await exited;
      return code;
    },
  };
}
