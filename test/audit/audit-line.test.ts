/**
 * An audit entry's line is the JSON of the entry, whatever its strings hold:
 * every field of AuditEntry round-trips (a field added to the type and not
 * to auditLine fails here), and the line is one line.
 */
import { describe, expect, it } from 'vitest';
import { auditLine } from '../../src/audit/audit-line.js';
import type { AuditEntry } from '../../src/audit/types.js';

const full: Required<AuditEntry> = {
  id: 'a1b2c3d4e5f6-42',
  at: 1_767_225_600_123,
  actor: 'token:"ci"\nbot',
  operation: 'restore_checkpoint',
  paths: ['/a "quoted".md', '/back\\slash/日本.md', '/\u2028sep\u0001.md'],
  revision: 9007199254740991,
  result: 'refused',
  code: 'ESTALE',
  message: 'expected revision 3, found "4"\n\tretry with the current one',
  source: 'instance-B',
  instance: 'instance-A',
};

describe('auditLine', () => {
  it('writes every field of an entry, as JSON.parse reads it back', () => {
    const line = auditLine(full);
    expect(JSON.parse(line)).toEqual(full);
    expect(Object.keys(JSON.parse(line)).sort()).toEqual(Object.keys(full).sort());
    expect(line).not.toContain('\n');
  });

  it('leaves out the optional fields an entry does not have', () => {
    const minimal: AuditEntry = { id: 'x-1', at: 5, actor: 'local', operation: 'create', paths: [], result: 'ok' };
    expect(JSON.parse(auditLine(minimal))).toStrictEqual(minimal);
  });

  it('escapes an id, operation or result that is not a plain word', () => {
    const odd = { ...full, id: 'id"with\nquote', operation: 'op "x"', result: 'ok"' as AuditEntry['result'] };
    expect(JSON.parse(auditLine(odd))).toEqual(odd);
  });
});
