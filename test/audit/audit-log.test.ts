import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryAuditLog } from '../../persistence/audit/memory-audit.js';
import { AuditSpool } from '../../src/audit/audit-spool.js';
import { auditLogContract, entry } from './audit-contract.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'scopefs-audit-'));
}

auditLogContract('memory', async () => ({ log: new MemoryAuditLog(), close: async () => undefined }));

auditLogContract('spool (small segments)', async () => {
  const dir = await tempDir();
  const spool = new AuditSpool(dir, { segmentBytes: 300 });
  return { log: spool, close: async () => (spool.close(), rm(dir, { recursive: true, force: true })) };
});

describe('AuditSpool', () => {
  it('rotates into segments and reads them all back in order', async () => {
    const dir = await tempDir();
    const spool = new AuditSpool(dir, { segmentBytes: 500 });
    for (let n = 1; n <= 40; n++) spool.appendSync([entry(n)]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.jsonl')).length).toBeGreaterThan(5);
    expect((await spool.all()).map((e) => e.id)).toEqual(Array.from({ length: 40 }, (_, i) => `t-${i + 1}`));
    // Pruning removes whole old segments and keeps the rest readable.
    expect(await spool.prune({ maxEntries: 10 })).toBe(30);
    expect((await spool.query({ limit: 100 })).length).toBe(10);
    spool.appendSync([entry(41)]);
    expect((await spool.query({ limit: 1 }))[0]!.id).toBe('t-41');
    spool.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('cuts a torn last line when opened, so the next entry starts on its own line', async () => {
    const dir = await tempDir();
    const first = new AuditSpool(dir);
    first.appendSync([entry(1)]);
    first.close();
    const [segment] = readdirSync(dir);
    appendFileSync(join(dir, segment!), '{"id":"t-2","at":10');
    const again = new AuditSpool(dir);
    again.appendSync([entry(3)]);
    again.close();
    expect(readFileSync(join(dir, segment!), 'utf8').trim().split('\n').map((l) => JSON.parse(l).id)).toEqual(['t-1', 't-3']);
    await rm(dir, { recursive: true, force: true });
  });

  it('creates nothing until the first append: a scope that records nothing has no audit files', async () => {
    const parent = await tempDir();
    const dir = join(parent, '.scopefs', 'audit');
    const spool = new AuditSpool(dir);
    expect(await spool.all()).toEqual([]);
    expect(await spool.readFrom(undefined)).toEqual([]);
    expect(await spool.prune({ maxEntries: 0 })).toBe(0);
    await expect(spool.prune({ maxEntries: -1 })).rejects.toMatchObject({ code: 'EINVAL' });
    expect(existsSync(dir)).toBe(false);
    spool.appendSync([entry(1)]);
    expect(readdirSync(dir)).toEqual(['000001.jsonl']);
    expect((await spool.all()).map((e) => e.id)).toEqual(['t-1']);
    spool.close();
    // Reopened: the entries are found without an append, and the next append goes to the same segment.
    const again = new AuditSpool(dir);
    expect((await again.readFrom(undefined)).map((r) => r.entry.id)).toEqual(['t-1']);
    again.appendSync([entry(2)]);
    again.close();
    expect(readdirSync(dir)).toEqual(['000001.jsonl']);
    await rm(parent, { recursive: true, force: true });
  });

  it('refuses appends once closed (EINVAL)', async () => {
    const dir = await tempDir();
    const spool = new AuditSpool(dir);
    spool.close();
    expect(() => spool.appendSync([entry(1)])).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    await rm(dir, { recursive: true, force: true });
  });
});

describe('MemoryAuditLog', () => {
  it('is bounded: past its size the oldest go', async () => {
    const log = new MemoryAuditLog(3);
    for (let n = 1; n <= 5; n++) log.appendSync([entry(n)]);
    expect((await log.query()).map((e) => e.id)).toEqual(['t-5', 't-4', 't-3']);
  });
});
