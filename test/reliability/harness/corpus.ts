/**
 * Loads the hostile-input corpus (test/reliability/corpus/*.json) and
 * expands its few generators, so long or binary inputs stay readable as data:
 *
 *   {"$repeat": [text, n], "prefix"?: p}  p + text repeated n times
 *   {"$bytes": base64}                    bytes
 *   {"$text": s}                          a string where a value must be text (e.g. a TEXT column)
 *   {"$zeros": n} / {"$size": n}          n bytes (NULs / the letter x)
 *   {"$bigint": "123"}                    a BigInt
 *   {"$sha256": s}                        sha256 hex of the UTF-8 string s
 *   {"$many": [template, n]}              n strings, `$i` replaced by the index
 *   {"$concat": [list, ...]}              the expanded lists, concatenated
 *   {"$json": value}                      the JSON text of the expanded value
 *   {"$join": [part, ...]}                the expanded strings, concatenated
 *   {"$nest": n, "leaf"?: t, "open"?: o, "close"?: c}
 *                                         JSON text of n nested arrays (or o/c) around the text t
 */
import { readFileSync } from 'node:fs';
import { sha256 } from '../../../src/content.js';

export interface CorpusFile<Case> {
  description: string;
  cases: Case[];
}

const CORPUS_DIR = new URL('../corpus/', import.meta.url);

/** The cases of one corpus file, generators expanded. */
export function loadCorpus<Case>(name: string): Case[] {
  const file = JSON.parse(readFileSync(new URL(name, CORPUS_DIR), 'utf8')) as CorpusFile<unknown>;
  return file.cases.map((c) => expand(c) as Case);
}

/** Expands generator objects anywhere in a value. */
export function expand(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(expand);
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const generated = generate(record);
  if (generated !== NOT_A_GENERATOR) return generated;
  return Object.fromEntries(Object.entries(record).map(([key, inner]) => [key, expand(inner)]));
}

const NOT_A_GENERATOR = Symbol('not a generator');

function generate(record: Record<string, unknown>): unknown {
  if ('$repeat' in record) {
    const [text, times] = record.$repeat as [string, number];
    return `${(record.prefix as string | undefined) ?? ''}${text.repeat(times)}`;
  }
  if ('$bytes' in record) return new Uint8Array(Buffer.from(record.$bytes as string, 'base64'));
  if ('$text' in record) return record.$text as string;
  if ('$zeros' in record) return new Uint8Array(record.$zeros as number);
  if ('$size' in record) return new Uint8Array(Buffer.alloc(record.$size as number, 'x'));
  if ('$bigint' in record) return BigInt(record.$bigint as string);
  if ('$sha256' in record) return sha256(Buffer.from(record.$sha256 as string, 'utf8'));
  if ('$many' in record) {
    const [template, count] = record.$many as [string, number];
    return Array.from({ length: count }, (_, i) => template.replaceAll('$i', String(i)));
  }
  if ('$concat' in record) return (record.$concat as unknown[]).flatMap((part) => expand(part) as unknown[]);
  if ('$json' in record) return JSON.stringify(expand(record.$json));
  if ('$nest' in record) {
    const depth = record.$nest as number;
    const [open, close, leaf] = [record.open ?? '[', record.close ?? ']', record.leaf ?? ''] as string[];
    return `${open!.repeat(depth)}${leaf}${close!.repeat(depth)}`;
  }
  if ('$join' in record) return (record.$join as unknown[]).map((part) => expand(part) as string).join('');
  return NOT_A_GENERATOR;
}
