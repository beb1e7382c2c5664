/**
 * The journal header as bytes: written out field by field (journal-codec.ts
 * headerJson), it must read back as the JSON it stands for, whatever the
 * strings hold; and the audit entries a record carries come back on their
 * op, while a damaged audit field costs the record nothing else.
 */
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { JOURNAL_MAGIC, decodeJournal, encodeRecord, type JournalOp } from '../../src/fs/journal-codec.js';
import { auditLine } from '../../src/audit/audit-line.js';
import type { AuditEntry } from '../../src/audit/types.js';

const bytes = (text: string) => new Uint8Array(Buffer.from(text));
const journalOf = (...records: JournalOp[][]) => Buffer.concat([JOURNAL_MAGIC, ...records.map((r) => encodeRecord(r))]);

/** The header JSON of a single encoded record. */
function headerText(record: Buffer): string {
  const headerLength = record.readUInt32LE(8);
  return record.toString('utf8', 12, 12 + headerLength);
}

const awkward = ['/plain.md', '/quote".md', '/back\\slash.md', '/line\nbreak.md', '/tab\t.md', '/ünïcødé/日本.md', '/emoji-😀.md', '/\u0001control.md', '/\u2028sep.md'];

describe('journal header', () => {
  it('is the JSON of its ops, every field and every awkward string included', () => {
    const ops: JournalOp[] = awkward.flatMap((path, i): JournalOp[] => [
      { op: 'put', path, content: bytes(`c${i}`), mimeType: `text/plain; name="${path}"`, createdAt: 1_700_000_000_000 + i, modifiedAt: 2.5 + i, diskBase: i % 2 ? null : `v"${i}` },
      { op: 'delete', path: `${path}.old`, ...(i % 3 ? { diskBase: 'abc' } : {}) },
    ]);
    ops.push({ op: 'put', path: '/large.bin', content: bytes('x'.repeat(10)), mimeType: 'application/octet-stream', createdAt: 1, modifiedAt: 2, ref: 'a'.repeat(32) });
    const record = encodeRecord(ops);
    const expected = ops.map((op) => {
      const { content, ...rest } = op as JournalOp & { content?: Uint8Array };
      return op.op === 'put' ? { ...rest, bytes: content!.byteLength } : rest;
    });
    expect(JSON.parse(headerText(record))).toEqual(expected);
    // And it decodes back to the ops themselves (a referenced put's content comes from its side file).
    const decoded = decodeJournal(Buffer.concat([JOURNAL_MAGIC, record]), () => bytes('x'.repeat(10)));
    expect(decoded.records).toEqual([ops.map((op) => (op.op === 'put' && op.ref ? (({ ref: _ref, ...rest }) => rest)(op) : op))]);
  });

  it('carries audit entries on their op, written as their lines and read as the entries', () => {
    const entries: AuditEntry[] = [
      { id: 'abc123-1', at: 1_700_000_000_001, actor: 'token:ci-"bot"', operation: 'move', paths: ['/from\n.md', '/to.md'], result: 'ok', revision: 7, source: 'B', instance: 'A' },
      { id: 'abc123-2', at: 1_700_000_000_002, actor: 'agent:日本', operation: 'write', paths: ['/to.md'], result: 'refused', code: 'ESTALE', message: 'expected revision 3, found "4"' },
    ];
    const put = { op: 'put', path: '/to.md', content: bytes('moved'), mimeType: 'text/markdown', createdAt: 1, modifiedAt: 2 } as const;
    const remove = { op: 'delete', path: '/from\n.md' } as const;
    // Written from the entries' lines (made once, by the recorder), read back as the entries.
    const written = journalOf([{ ...put, auditLines: entries.map(auditLine) }, remove]);
    expect(decodeJournal(written).records).toEqual([[{ ...put, audit: entries }, remove]]);
  });

  it('reads a record whose audit field is damaged as its ops alone, and one written without any', () => {
    const put = (audit: unknown) => ({ op: 'put', path: '/a.md', mimeType: 'text/plain', createdAt: 1, modifiedAt: 2, bytes: 1, audit });
    for (const audit of ['not a list', [1, null, 'x'], [{ id: 'no-time' }]]) {
      // A record as an older (or a damaged) writer made it: the header through JSON.stringify, CRC intact.
      const json = Buffer.from(JSON.stringify([put(audit)]));
      const payload = Buffer.concat([Buffer.alloc(4), json, Buffer.from('a')]);
      payload.writeUInt32LE(json.byteLength, 0);
      const frame = Buffer.alloc(8);
      frame.writeUInt32LE(payload.byteLength, 0);
      frame.writeUInt32LE(crc32(payload) >>> 0, 4);
      const decoded = decodeJournal(Buffer.concat([JOURNAL_MAGIC, frame, payload]));
      expect(decoded.records).toEqual([[{ op: 'put', path: '/a.md', content: bytes('a'), mimeType: 'text/plain', createdAt: 1, modifiedAt: 2 }]]);
    }
  });
});
