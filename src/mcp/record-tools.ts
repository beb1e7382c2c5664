/**
 * `search_records`: finds records tailed from JSONL files (docs/tail.md),
 * e.g. agent transcripts, by the text of their line. Owner only (records may
 * come from any file, or from outside the scope): tool-grants.ts hides it
 * from a limited grant, whose scope facade carries no records anyway.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { StoredRecord } from '../../persistence/records/types.js';
import type { ScopeRecords, ScopeTailHandle } from '../tail/scope-tail.js';
import { runTool } from './result.js';

/** Characters of a record's line shown per result. */
const SHOWN_CHARS = 2000;

/** Listed only for a scope that tails something: an agent of a scope without records is not offered the tool. */
export function registerRecordTools(server: McpServer, records: ScopeRecords | undefined, tail: ScopeTailHandle | undefined): void {
  if (!records || !tail || tail.status().sources.length === 0) return;
  server.registerTool(
    'search_records',
    {
      title: 'Search tailed records',
      description:
        'Searches the records tailed from JSONL files (agent transcripts, logs) for lines containing a text ' +
        '(case-insensitive), newest first. Each result names its source, file, line number and cursor (seq).',
      inputSchema: {
        text: z.string().min(1).describe('Text the line contains'),
        source: z.string().optional().describe('Only records of this tail source'),
        limit: z.number().int().min(1).max(200).optional().describe('At most this many (default 20)'),
      },
      annotations: { readOnlyHint: true },
    },
    ({ text, source, limit }) =>
      runTool(async () => {
        const found = await records.search({ text, limit: limit ?? 20, ...(source === undefined ? {} : { source }) });
        if (found.length === 0) return `No record contains ${JSON.stringify(text)}.`;
        return found.map(describe);
      }),
  );
}

function describe(record: StoredRecord): string {
  const line = record.json !== undefined ? JSON.stringify(record.json) : (record.raw ?? '');
  const shown = line.length > SHOWN_CHARS ? `${line.slice(0, SHOWN_CHARS)}… (${line.length} characters)` : line;
  const error = record.error ? ` [${record.error.code}: ${record.error.message}]` : '';
  return `${record.source} ${record.file}:${record.line} (seq ${record.seq})${error}\n${shown}`;
}
