/**
 * What a running scope reports, as log lines. `lineForSyncEvent` and
 * `lineForChildEvent` are pure (event in, line out); `attachScopeLogger`
 * subscribes a logger to a scope. Every line carries a stable `event` field
 * (store_error, gate_paused, conflict, ...) for whoever filters the logs.
 */
import { describeReason, isAbnormal } from '../../supervisors/runtime/actor.js';
import type { ChildEvent } from '../../supervisors/runtime/supervisor.js';
import type { SyncEvent } from '../sync/types.js';
import type { ScopeHandle } from '../types.js';

export type LineLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogLine {
  level: LineLevel;
  msg: string;
  fields: Record<string, unknown> & { event: string };
}

/** What the scope logger needs of a logger; a pino Logger is one. */
export type LogSink = Record<LineLevel, (fields: object, msg: string) => void>;

/** A scope's event sources: its sync events and its supervisor's child events. */
export interface LoggableScope {
  readonly key: string;
  readonly sync: ScopeHandle['sync'];
  readonly supervisor?: { onChildEvent(listener: (event: ChildEvent) => void): () => void };
  /** The agents' subtree: its `agent_stopped` events (supervisors/scope/agents.ts). */
  readonly agents?: { subscribe(listener: (event: { type: string }) => void): () => void };
}

/** How an operator lets a pass the safety gate held go ahead (named in the gate's log line). */
export const GATE_HINT = 'check the deletions, then confirm: scopefs sync confirm, POST /v1/sync/confirm or the sync_confirm MCP tool';

/** A sync event as a log line; events this module does not know are logged at debug. */
export function lineForSyncEvent(event: SyncEvent): LogLine {
  switch (event.type) {
    case 'sync_state':
      return stateLine(event);
    case 'conflict': {
      const { path, copyPath, remoteInstance, remoteRevision } = event.conflict;
      return {
        level: 'warn',
        msg: `conflict on ${path}: the other version is kept as ${copyPath}`,
        fields: { event: 'conflict', path, copyPath, remoteInstance, remoteRevision },
      };
    }
    case 'conflict_resolved':
      return { level: 'info', msg: `conflict on ${event.path} resolved (${event.resolution})`, fields: { event: 'conflict_resolved', path: event.path, resolution: event.resolution } };
    case 'synced':
      return {
        level: 'debug',
        msg: `${event.direction === 'push' ? 'pushed' : 'pulled'} ${event.paths.length} files`,
        fields: { event: 'synced', direction: event.direction, files: event.paths.length, cursor: event.cursor },
      };
    default:
      return otherEvent(event as { type: string });
  }
}

function stateLine(event: Extract<SyncEvent, { type: 'sync_state' }>): LogLine {
  const { state, previous, reason } = event;
  const fields = { state, previous, ...(reason === undefined ? {} : { reason }) };
  if (state === 'backing_off') {
    return { level: 'error', msg: `store error: ${reason ?? 'unknown'}; sync retries with backoff`, fields: { event: 'store_error', ...fields } };
  }
  if (state === 'paused' && reason?.includes('safety gate')) {
    return { level: 'warn', msg: reason, fields: { event: 'gate_paused', ...fields, hint: GATE_HINT } };
  }
  if (state === 'paused') return { level: 'warn', msg: `sync paused: ${reason ?? 'by request'}`, fields: { event: 'sync_state', ...fields } };
  // The reason of other states is the last error, already logged with store_error.
  const plain = { event: 'sync_state', state, previous };
  if (state === 'connecting' && previous === 'backing_off') return { level: 'debug', msg: 'reconnecting to the store', fields: plain };
  return { level: 'info', msg: `sync ${previous} -> ${state}`, fields: plain };
}

/** An agent's event (agent_stopped: it exceeded its restart intensity; the rest of the scope runs on). */
export function lineForAgentEvent(event: { type: string }): LogLine {
  return otherEvent(event as { type: string } & Record<string, unknown>);
}

/** Events other modules add to the scope's stream (an agent stopped, a strategy applied, ...). */
function otherEvent(event: { type: string } & Record<string, unknown>): LogLine {
  const { type, ...rest } = event;
  if (type === 'agent_stopped') {
    const agent = rest.id ?? rest.agent ?? rest.agentId;
    return { level: 'error', msg: `agent ${String(agent)} stopped: ${String(rest.reason ?? 'unknown reason')}`, fields: { event: type, ...rest } };
  }
  return { level: 'debug', msg: type.replace(/_/g, ' '), fields: { event: type, ...rest } };
}

/** One served request, at debug level (the path comes without its query, which may hold a token). */
export function lineForRequest(info: { method: string; path: string; status: number; ms: number }): LogLine {
  const ms = Math.round(info.ms * 10) / 10;
  return { level: 'debug', msg: `${info.method} ${info.path} ${info.status} ${ms} ms`, fields: { event: 'request', method: info.method, path: info.path, status: info.status, ms } };
}

/** A supervisor child event as a log line: a crash is an error, a restart a warning, the rest debug. */
export function lineForChildEvent(event: ChildEvent): LogLine {
  const child = event.id;
  if (event.type === 'exited' && event.reason !== undefined && isAbnormal(event.reason)) {
    return { level: 'error', msg: `${child} crashed: ${describeReason(event.reason)}`, fields: { event: 'child_crashed', child, reason: describeReason(event.reason) } };
  }
  if (event.type === 'restarted') return { level: 'warn', msg: `${child} restarted`, fields: { event: 'child_restarted', child } };
  return { level: 'debug', msg: `${child} ${event.type}`, fields: { event: `child_${event.type}`, child, ...(event.reason ? { reason: describeReason(event.reason) } : {}) } };
}

export function writeLine(log: LogSink, line: LogLine): void {
  log[line.level](line.fields, line.msg);
}

/**
 * Logs the scope's sync events and supervisor child events until the
 * returned function is called. The sync state reached before attaching (the
 * scope starts syncing at once) is logged once from the status, unless an
 * event already told it.
 */
export function attachScopeLogger(scope: LoggableScope, log: LogSink): () => void {
  let heardState = false;
  const detach = [
    scope.sync?.subscribe((event) => {
      if (event.type === 'sync_state') heardState = true;
      writeLine(log, lineForSyncEvent(event));
    }),
    scope.supervisor?.onChildEvent((event) => writeLine(log, lineForChildEvent(event))),
    scope.agents?.subscribe((event) => writeLine(log, lineForAgentEvent(event))),
  ];
  scope.sync?.status().then(
    ({ state, pausedReason, error }) => {
      if (heardState || state === 'stopped') return;
      writeLine(log, lineForSyncEvent({ type: 'sync_state', state, previous: 'offline', reason: pausedReason ?? error }));
    },
    () => undefined, // restarting: its state changes are events
  );
  return () => {
    for (const off of detach) off?.();
  };
}
