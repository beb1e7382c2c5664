/**
 * createFileSync for agent-native users: the Supabase key variables they
 * set (SUPABASE_ANON_KEY, SUPABASE_SERVICE_ROLE_KEY), and an SSE handler
 * taking `extraEmitters` like agent-native's createSSEHandler. Supabase is
 * the PostgREST stub over a real PostgreSQL database (no Supabase here).
 */
import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../persistence/sql/migrate.js';
import { createFileSync, type FileSyncResult } from '../src/file-sync.js';
import { describePostgres, useTestDatabase, waitFor } from './helpers/postgres.js';
import { createPostgrestStub, STUB_KEYS, type PostgrestStub } from './helpers/postgrest-stub.js';

const PROJECT = 'https://stub.supabase.co';
let dir: string;
let apps = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-file-sync-parity-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function ready(result: FileSyncResult): Extract<FileSyncResult, { status: 'ready' }> {
  if (result.status !== 'ready') throw new Error(`not ready: ${JSON.stringify(result)}`);
  return result;
}

describe('createFileSync supabase settings', () => {
  it('without any key names every variable it accepts', async () => {
    const result = await createFileSync({
      contentRoot: join(dir, 'nokey'),
      env: { FILE_SYNC_ENABLED: 'true', FILE_SYNC_BACKEND: 'supabase', SUPABASE_URL: PROJECT },
    });
    expect(result).toEqual({ status: 'error', reason: expect.stringMatching(/SUPABASE_PUBLISHABLE_KEY \(or SUPABASE_ANON_KEY, or on a server SUPABASE_SERVICE_ROLE_KEY\)/) });
  });
});

describePostgres('createFileSync with SUPABASE_ANON_KEY or SUPABASE_SERVICE_ROLE_KEY', () => {
  const db = useTestDatabase('file_sync_parity');
  let stub: PostgrestStub;

  beforeAll(async () => {
    await migrate(db.url);
    stub = createPostgrestStub(db.url);
  });
  afterAll(async () => stub?.close());

  const start = (name: string, keys: Record<string, string>, app: string) =>
    createFileSync({
      contentRoot: join(dir, name),
      app,
      fetch: stub.fetch,
      env: { FILE_SYNC_ENABLED: 'true', FILE_SYNC_BACKEND: 'supabase', SUPABASE_URL: PROJECT, ...keys },
    });

  it('SUPABASE_SERVICE_ROLE_KEY: two content roots sync through the store, with the service role', async () => {
    const app = `parity-${process.pid}-${++apps}`;
    const a = ready(await start('service-a', { SUPABASE_SERVICE_ROLE_KEY: STUB_KEYS.secret }, app));
    const b = ready(await start('service-b', { SUPABASE_SERVICE_ROLE_KEY: STUB_KEYS.secret }, app));
    try {
      await a.fileSync.fs.writeFile('/shared.md', 'from a');
      await waitFor(async () => (await b.fileSync.fs.fileExists('/shared.md')) && (await b.fileSync.fs.readFile('/shared.md')) === 'from a', 20_000, 'the file on b');
      expect(stub.requests.some((r) => r.headers.apikey === STUB_KEYS.secret && r.role === 'service_role')).toBe(true);
    } finally {
      await Promise.all([a.shutdown(), b.shutdown()]);
    }
  }, 40_000);

  it('SUPABASE_ANON_KEY: the store calls with the anon key (role anon)', async () => {
    const app = `parity-${process.pid}-${++apps}`;
    stub.requests.length = 0;
    const a = ready(await start('anon', { SUPABASE_ANON_KEY: STUB_KEYS.publishable }, app));
    try {
      await waitFor(() => stub.requests.length > 0, 10_000, 'a request');
      expect(stub.requests.every((r) => r.headers.apikey === STUB_KEYS.publishable && r.role === 'anon')).toBe(true);
    } finally {
      await a.shutdown();
    }
  });
});

describe('createFileSync createSSEHandler', () => {
  let server: Server | undefined;
  afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('streams file events and the extra emitters, as agent-native’s createSSEHandler({ extraEmitters })', async () => {
    const sync = ready(await createFileSync({ contentRoot: join(dir, 'sse'), env: { FILE_SYNC_ENABLED: 'true', FILE_SYNC_BACKEND: 'sqlite' } }));
    const appEvents = new EventEmitter();
    server = createServer(sync.createSSEHandler({ extraEmitters: [{ emitter: appEvents, event: 'settings' }] }));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const abort = new AbortController();
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { signal: abort.signal });
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      const reader = response.body!.getReader();
      const messages = readMessages(reader);
      expect((await messages.next()).value).toBe(': connected');
      await sync.fileSync.fs.writeFile('/a.md', 'x');
      // The stream carries sync's lifecycle too (a sync_state may come first, as sync connects).
      let event: { type?: string };
      do event = JSON.parse(await nextData(messages));
      while (event.type !== 'file_updated');
      expect(event).toMatchObject({ type: 'file_updated', path: '/a.md' });
      appEvents.emit('settings', { source: 'settings', key: 'theme' });
      let seen: unknown;
      do seen = JSON.parse(await nextData(messages));
      while ((seen as { source?: string }).source !== 'settings');
      expect(seen).toEqual({ source: 'settings', key: 'theme' });
      expect(appEvents.listenerCount('settings')).toBe(1);
      abort.abort();
      await waitFor(() => appEvents.listenerCount('settings') === 0, 5_000, 'the listener removed on close');
    } finally {
      abort.abort();
      await sync.shutdown();
    }
  });
});

async function* readMessages(reader: ReadableStreamDefaultReader<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      yield buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
    }
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
  }
}

async function nextData(messages: AsyncGenerator<string>): Promise<string> {
  for (;;) {
    const { value, done } = await messages.next();
    if (done) throw new Error('stream ended');
    if (value.startsWith('data: ')) return value.slice('data: '.length);
  }
}
