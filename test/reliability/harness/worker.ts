/**
 * Client for fixtures/worker.ts: spawns the process and talks JSON lines.
 * Progress messages (`{id, intent}`) of a call reach its `onIntent`, also
 * when the process dies before answering.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../fixtures/worker.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../..', import.meta.url));

export class WorkerExitedError extends Error {
  constructor(readonly stderr: string) {
    super(`worker exited before answering${stderr ? `: ${stderr.slice(-2000)}` : ''}`);
    this.name = 'WorkerExitedError';
  }
}

export interface CallOptions {
  onIntent?: (intent: unknown) => void;
}

interface Pending {
  op: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  onIntent?: (intent: unknown) => void;
}

export class Worker {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stderr = '';
  readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-20_000)));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', () => {
      for (const waiter of this.pending.values()) waiter.reject(new WorkerExitedError(this.stderr));
      this.pending.clear();
    });
  }

  static async spawn(): Promise<Worker> {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
    const worker = new Worker(child);
    await worker.listen();
    return worker;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  call<T = unknown>(op: string, args: Record<string, unknown> = {}, options: CallOptions = {}): Promise<T> {
    if (!this.alive) return Promise.reject(new WorkerExitedError(this.stderr));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { op, resolve: resolve as (v: unknown) => void, reject, onIntent: options.onIntent });
      this.child.stdin!.write(`${JSON.stringify({ id, op, ...args })}\n`);
    });
  }

  /** The operations sent and not answered yet (for reports on a stuck run). */
  pendingOps(): string[] {
    return [...this.pending.values()].map((p) => p.op);
  }

  /** SIGKILL: no cleanup, no flush, exactly what a crash does. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Closes the open scope (flushing) and ends the process. */
  async exit(): Promise<void> {
    if (!this.alive) return;
    await this.call('exit').catch(() => undefined);
    await this.exited;
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready: ${this.stderr}`)));
      createInterface({ input: this.child.stdout! }).on('line', (text) => {
        const message = JSON.parse(text) as { ready?: boolean; id?: number; intent?: unknown; ok?: boolean; result?: unknown; error?: string; code?: string };
        if (message.ready) return resolve();
        const waiter = this.pending.get(message.id ?? -1);
        if (!waiter) return;
        if (message.intent !== undefined) return waiter.onIntent?.(message.intent);
        this.pending.delete(message.id!);
        if (message.ok) waiter.resolve(message.result);
        else waiter.reject(Object.assign(new Error(message.error), { code: message.code }));
      });
    });
  }
}
