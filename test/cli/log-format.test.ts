import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { formatPretty } from '../../src/log/pretty.js';
import { lineForAgentEvent, lineForChildEvent, lineForSyncEvent } from '../../src/log/scope-log.js';

function collect(): PassThrough & { text(): string } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  return Object.assign(stream, { text: () => chunks.join('') });
}

describe('log lines', () => {
  it('json: one record per line with the level name; pretty: time, level, message, then key=value', () => {
    const json = collect();
    createLogger({ stream: json, base: { scope: 's' } }).warn({ event: 'conflict', path: '/a b.md' }, 'conflict on /a b.md');
    const record = JSON.parse(json.text());
    expect(record).toMatchObject({ level: 'warn', scope: 's', event: 'conflict', path: '/a b.md', msg: 'conflict on /a b.md' });
    const pretty = collect();
    createLogger({ stream: pretty, format: 'pretty', level: 'debug' }).debug({ event: 'synced', files: 3 }, 'pulled 3 files');
    expect(pretty.text()).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z DEBUG pulled 3 files {2}event=synced {2}files=3\n$/);
    expect(formatPretty(JSON.stringify(record))).toMatch(/WARN  conflict on \/a b\.md {2}scope=s {2}event=conflict {2}path="\/a b\.md"/);
  });

  it('an unknown level or format is a typed error naming the choices', () => {
    expect(() => createLogger({ level: 'loud' as never })).toThrow(/unknown log level "loud"; use one of trace, debug/);
    expect(() => createLogger({ format: 'xml' as never })).toThrow(/use json or pretty/);
  });

  it('maps what the scope reports: store errors, gate pauses, crashes and agent stops at their levels', () => {
    expect(lineForSyncEvent({ type: 'sync_state', state: 'backing_off', previous: 'live', reason: 'EIO: down' })).toMatchObject({ level: 'error', fields: { event: 'store_error', reason: 'EIO: down' } });
    const gate = lineForSyncEvent({ type: 'sync_state', state: 'paused', previous: 'live', reason: 'sync paused by the safety gate: x; confirm to go ahead' });
    expect(gate).toMatchObject({ level: 'warn', fields: { event: 'gate_paused' } });
    expect(lineForSyncEvent({ type: 'sync_state', state: 'connecting', previous: 'backing_off' }).level).toBe('debug');
    expect(lineForChildEvent({ type: 'exited', id: 'sync', reason: new Error('boom') })).toMatchObject({ level: 'error', msg: 'sync crashed: crash: boom' });
    expect(lineForChildEvent({ type: 'exited', id: 'sync', reason: 'shutdown' }).level).toBe('debug');
    const agent = lineForAgentEvent({ type: 'agent_stopped', id: 'writer', reason: 'restarted 3 times in 5 s', restarts: 3 } as { type: string });
    expect(agent).toMatchObject({ level: 'error', msg: 'agent writer stopped: restarted 3 times in 5 s', fields: { event: 'agent_stopped', restarts: 3 } });
  });
});
