import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../sync/fixtures/instance.ts', import.meta.url));

export interface InstanceConfig {
  root: string;
  store: string;
  app?: string;
  userId?: string;
  instanceId?: string;
  debounceMs?: number;
  watch?: boolean;
  durability?: 'journal' | 'debounced' | 'immediate';
}

export interface Instance {
  readonly config: InstanceConfig;
  readonly child: ChildProcess;
  /** Sends a command and resolves with its result; rejects with the instance's error. */
  call<T = unknown>(op: string, args?: Record<string, unknown>): Promise<T>;
  /** Sync events the instance reported so far. */
  readonly events: Array<{ type: string; [key: string]: unknown }>;
  /** Resolves with the first event matching the predicate (past or future). */
  waitForEvent(predicate: (event: { type: string; [key: string]: unknown }) => boolean, timeoutMs?: number): Promise<unknown>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

/** Starts one scopefs instance in a separate OS process and waits until it is ready. */
export async function startInstance(config: InstanceConfig): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const events: Array<{ type: string; [key: string]: unknown }> = [];
  const eventWaiters: Array<{ predicate: (e: { type: string }) => boolean; resolve: (e: unknown) => void }> = [];
  let nextId = 1;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`instance exited (${code}) before ready: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const message = JSON.parse(line);
      if (message.ready) resolve();
      else if (message.event) {
        events.push(message.event);
        for (const waiter of [...eventWaiters]) {
          if (waiter.predicate(message.event)) {
            eventWaiters.splice(eventWaiters.indexOf(waiter), 1);
            waiter.resolve(message.event);
          }
        }
      } else {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (message.ok) waiter?.resolve(message.result);
        else waiter?.reject(Object.assign(new Error(message.error), { code: message.code }));
      }
    });
  });
  child.once('exit', () => {
    for (const waiter of pending.values()) waiter.reject(new Error(`instance exited: ${stderr}`));
    pending.clear();
  });
  await ready;
  return {
    config,
    child,
    events,
    call<T>(op: string, args: Record<string, unknown> = {}): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.stdin!.write(`${JSON.stringify({ id, op, ...args })}\n`);
      });
    },
    waitForEvent(predicate, timeoutMs = 30_000) {
      const past = events.find(predicate);
      if (past) return Promise.resolve(past);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out waiting for a sync event')), timeoutMs);
        eventWaiters.push({
          predicate,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        });
      });
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin!.end();
      await exited;
    },
  };
}
