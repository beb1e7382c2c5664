import { Actor, type ExitReason, type Process } from '../../supervisors/runtime/actor.js';
import type { ChildEvent, ChildSpec } from '../../supervisors/runtime/supervisor.js';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Resolves with the reason the process exits with. */
export function exitOf(process: Process): Promise<ExitReason> {
  return new Promise((resolve) => process.onExit(resolve));
}

export type WorkerMessage = 'ping' | 'crash' | 'exit-normal';

export interface WorkerOptions {
  restart?: ChildSpec['restart'];
  shutdownMs?: number;
  /** Awaited by terminate: lets a test hold a child in its shutdown. */
  terminate?: () => Promise<void>;
}

/**
 * A child spec for a small worker actor that records `start:<id>` and
 * `stop:<id>` in `log`. Cast `crash` to crash it, `exit-normal` to make it
 * exit cleanly; call `ping` to get `pong:<id>`.
 */
export function worker(id: string, log: string[], options: WorkerOptions = {}): ChildSpec {
  return {
    id,
    restart: options.restart,
    shutdownMs: options.shutdownMs,
    start: async () => {
      const actor: Actor<WorkerMessage> = await Actor.start<WorkerMessage>(
        {
          init: () => void log.push(`start:${id}`),
          handleCall: (message) => (message === 'ping' ? `pong:${id}` : undefined),
          handleCast: (message) => {
            if (message === 'crash') throw new Error(`${id} crashed on purpose`);
            if (message === 'exit-normal') actor.exit('normal');
          },
          terminate: async () => {
            log.push(`stop:${id}`);
            await options.terminate?.();
          },
        },
        { name: id },
      );
      return actor;
    },
  };
}

/** Something that emits child events: a Supervisor or a DynamicSupervisor. */
export interface EventSource {
  onChildEvent(listener: (event: ChildEvent) => void): () => void;
}

/** Resolves with the next event matching `match`. */
export function nextEvent(source: EventSource, match: Partial<ChildEvent>): Promise<ChildEvent> {
  return new Promise((resolve) => {
    const unsubscribe = source.onChildEvent((event) => {
      if (matches(event, match)) {
        unsubscribe();
        resolve(event);
      }
    });
  });
}

/** Records every event from now on. */
export function recordEvents(source: EventSource): ChildEvent[] {
  const events: ChildEvent[] = [];
  source.onChildEvent((event) => events.push(event));
  return events;
}

/** Short `type:id` labels, for asserting whole sequences. */
export function labels(events: ChildEvent[]): string[] {
  return events.map((event) => `${event.type}:${event.id}`);
}

function matches(event: ChildEvent, match: Partial<ChildEvent>): boolean {
  return (match.type === undefined || event.type === match.type) && (match.id === undefined || event.id === match.id);
}

/** Crashes a running actor child and waits until its supervisor has restarted it. */
export async function crashAndAwaitRestart(source: EventSource, child: Process | undefined, id: string): Promise<void> {
  const restarted = nextEvent(source, { type: 'restarted', id });
  (child as Actor<WorkerMessage>).cast('crash');
  await restarted;
}
