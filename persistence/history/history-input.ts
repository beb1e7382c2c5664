/**
 * Argument checks shared by every HistoryStore, so bad input gets the same
 * typed error (EINVAL naming the argument and what to pass) on every backend.
 */
import { sha256 } from '../../src/content.js';
import { ScopeFsError } from '../../src/errors.js';
import { normalizePrefix } from '../../src/paths.js';
import type { NewCheckpoint, NewVersion, PruneBudget, Retention, VersionsQuery } from './types.js';

export const DEFAULT_VERSIONS_LIMIT = 100;
export const MAX_VERSIONS_LIMIT = 10_000;
const MAX_CHECKPOINT_NAME = 200;
const ORIGINS = new Set(['local', 'disk', 'sync', 'replay']);
const CONTROL = /[\u0000-\u001f\u007f]/;

const invalid = (message: string, path?: string) => new ScopeFsError('EINVAL', message, { path });

export function checkText(kind: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.includes('\u0000')) {
    throw invalid(`history ${kind} must be a non-empty string without NUL, got ${JSON.stringify(value)}`);
  }
}

function checkCount(kind: string, value: unknown, min: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw invalid(`history ${kind} must be an integer >= ${min}, got ${String(value)}`);
  }
}

/** Checks a list of content hashes (contents()); returns it. */
export function checkHashes(hashes: readonly string[]): readonly string[] {
  if (!Array.isArray(hashes)) throw invalid('history contents needs an array of hashes');
  for (const hash of hashes) checkText('hash', hash);
  return hashes;
}

/** Checks a version to record; the hash must be the sha256 of the content (null for a deletion). */
export function checkNewVersion(version: NewVersion): void {
  checkText('path', version?.path);
  const { path, content, hash } = version;
  if (content === null) {
    if (hash !== null) throw invalid(`history deletion of ${JSON.stringify(path)} must have hash null`, path);
  } else {
    if (!(content instanceof Uint8Array)) throw invalid(`history content of ${JSON.stringify(path)} must be bytes or null`, path);
    if (hash !== sha256(content)) {
      throw invalid(`history hash of ${JSON.stringify(path)} is not the sha256 of its content; pass sha256(content)`, path);
    }
  }
  checkCount('time (at)', version.at, 0);
  if (!ORIGINS.has(version.origin)) {
    throw invalid(`history origin of ${JSON.stringify(path)} must be one of ${[...ORIGINS].join(', ')}, got ${JSON.stringify(version.origin)}`, path);
  }
  if (version.actor !== undefined) checkText('actor', version.actor);
  if (version.instance !== undefined) checkText('instance', version.instance);
}

/** The limit and `before` bound of a versions query, defaults applied. */
export function checkVersionsQuery(query: VersionsQuery = {}): { limit: number; before: number } {
  const limit = query.limit ?? DEFAULT_VERSIONS_LIMIT;
  checkCount('versions limit', limit, 1);
  if (limit > MAX_VERSIONS_LIMIT) throw invalid(`history versions limit is at most ${MAX_VERSIONS_LIMIT}; page with "before"`);
  const before = query.before ?? Number.MAX_SAFE_INTEGER;
  checkCount('versions "before" revision', before, 1);
  return { limit, before };
}

export function checkLimit(kind: string, limit: number): number {
  checkCount(kind, limit, 1);
  return Math.min(limit, MAX_VERSIONS_LIMIT);
}

export function checkRevisionArg(revision: unknown): asserts revision is number {
  checkCount('revision', revision, 1);
}

export function checkCheckpointName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_CHECKPOINT_NAME || CONTROL.test(name) || name.trim() !== name) {
    throw invalid(
      `checkpoint name must be 1-${MAX_CHECKPOINT_NAME} characters without control characters or surrounding spaces, got ${JSON.stringify(name)}`,
    );
  }
}

/** Checks a checkpoint and returns its prefix normalised (`/a/`, or `/`). */
export function checkNewCheckpoint(checkpoint: NewCheckpoint): string {
  checkCheckpointName(checkpoint?.name);
  if (checkpoint.message !== undefined && typeof checkpoint.message !== 'string') {
    throw invalid('checkpoint message must be a string');
  }
  checkCount('checkpoint time (at)', checkpoint.at, 0);
  const prefix = normalizePrefix(checkpoint.prefix);
  if (!Array.isArray(checkpoint.files)) throw invalid('checkpoint files must be an array of { path, hash, size }');
  const seen = new Set<string>();
  for (const file of checkpoint.files) {
    checkText('checkpoint file path', file?.path);
    if (seen.has(file.path)) throw invalid(`checkpoint lists ${JSON.stringify(file.path)} twice`, file.path);
    seen.add(file.path);
    if (typeof file.hash !== 'string' || !/^[0-9a-f]{64}$/.test(file.hash)) {
      throw invalid(`checkpoint file ${JSON.stringify(file.path)} needs a sha256 hex hash`, file.path);
    }
    checkCount(`checkpoint file ${JSON.stringify(file.path)} size`, file.size, 0);
    if (file.content !== undefined && sha256(file.content) !== file.hash) {
      throw invalid(`checkpoint file ${JSON.stringify(file.path)}: content does not match its hash`, file.path);
    }
  }
  return prefix;
}

export function checkRetention(retention: Retention, budget: PruneBudget): void {
  if (retention.maxVersionsPerPath !== undefined) checkCount('retention maxVersionsPerPath', retention.maxVersionsPerPath, 1);
  if (retention.maxAgeMs !== undefined) checkCount('retention maxAgeMs', retention.maxAgeMs, 0);
  if (retention.maxBytes !== undefined) checkCount('retention maxBytes', retention.maxBytes, 0);
  checkCount('prune budget maxRows', budget?.maxRows, 1);
  if (budget.now !== undefined) checkCount('prune budget now', budget.now, 0);
}

export function checkpointExists(name: string): ScopeFsError {
  return new ScopeFsError('EEXIST', `checkpoint ${JSON.stringify(name)} already exists; choose another name or delete it first`);
}

export function missingContent(path: string, hash: string): ScopeFsError {
  return invalid(
    `checkpoint file ${JSON.stringify(path)}: no content with hash ${hash} is recorded; record the version first or pass its content`,
    path,
  );
}
