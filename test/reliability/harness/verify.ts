/**
 * The end-of-run checks: heal, wait for quiescence, then
 *  1. every acknowledged token is somewhere (files or conflict copies) or was
 *     replaced by an operation that had seen it (the oracle);
 *  2. conflicts are resolved by keeping both sides' tokens, until none is left;
 *  3. every instance holds identical synced files, memory equals disk, and
 *     the store's live rows equal the files;
 *  4. the oracle holds again on the final files alone;
 *  5. no actor crashed unless the harness crashed it, and nothing is failed or pending;
 *  6. no instance is in conflict with itself (a conflict whose remote side is
 *     its own earlier push: a push committed but not recorded, e.g. kill -9);
 *  7. with conflict strategies (odd seeds, model.ts strategyMixFor): a side a
 *     rule discarded is in a resolved copy (it counts as kept), the copy holds
 *     the side the rule must drop (`local`: never this instance's own,
 *     `remote`: always this instance's own), merge and manual paths never
 *     drop a side, and only merge and manual paths open sync conflicts.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from '../../../src/content.js';
import { isConflictCopy, resolvedCopyOf } from '../../../src/sync/conflict-copy.js';
import { deniedReason } from '../../../src/sync/denylist.js';
import { createStrategyMatcher } from '../../../src/sync/patterns.js';
import type { StrategyRule } from '../../../src/sync/strategies.js';
import type { ConflictRecord } from '../../../src/sync/types.js';
import type { SyncStore } from '../../../persistence/stores/types.js';
import type { Cluster } from './cluster.js';
import { tokensIn } from './content.js';
import { name } from './model.js';
import { liveRows } from './quiescence.js';
import type { Oracle } from './oracle.js';

type Files = Map<string, Buffer>;

interface InstanceFiles {
  synced: Files;
  copies: Files;
  /** Resolved copies: the sides conflict strategies discarded, kept beside their files. */
  resolved: Files;
}

export interface Verdict {
  problems: string[];
  conflictsResolved: number;
  /** Sides conflict strategies discarded, kept as resolved copies, over all instances. */
  resolvedCopies: number;
}

const MAX_RESOLVE_ROUNDS = 10;

export async function verifyConvergence(
  cluster: Cluster,
  oracle: Oracle,
  store: SyncStore,
  app: string,
  strategies: readonly StrategyRule[] = [],
): Promise<Verdict> {
  const problems: string[] = [];
  oracle.settleRunning();
  await cluster.healAll();
  await cluster.settle();

  const before = await snapshots(cluster, false);
  reportLost(problems, oracle, before, 'before resolving conflicts (files, conflict and resolved copies)');
  problems.push(...(await selfConflicts(cluster)));
  problems.push(...(await conflictsAgainstStrategy(cluster)));

  const conflictsResolved = await resolveConflicts(cluster);
  const after = await snapshots(cluster, true);
  reportLost(problems, oracle, after.map((f) => ({ ...f, copies: new Map() })), 'in the final files and resolved copies');
  after.forEach((files, i) => problems.push(...resolvedAgainstStrategy(name(i), files.resolved, strategies)));
  reportDivergence(problems, after);
  for (const [i, files] of after.entries()) {
    if (files.copies.size > 0) problems.push(`${name(i)} still has conflict copies: ${[...files.copies.keys()].join(', ')}`);
    problems.push(...(await diskMismatches(cluster.rootOf(i), files.synced)).map((p) => `${name(i)}: ${p}`));
  }
  problems.push(...storeMismatches(await liveRows(store, app), after[0]!.synced));
  problems.push(...(await healthProblems(cluster)));
  if (problems.some((p) => p.startsWith('LOST'))) problems.push(...(await recentEvents(cluster)));
  return { problems, conflictsResolved, resolvedCopies: after.reduce((n, files) => n + files.resolved.size, 0) };
}

/** Open conflicts whose remote side was written by the same instance: it conflicts with its own push. */
export async function selfConflicts(cluster: Cluster): Promise<string[]> {
  const problems: string[] = [];
  for (const [i, status] of (await cluster.statuses()).entries()) {
    for (const conflict of await cluster.call<ConflictRecord[]>(i, 'conflicts')) {
      if (conflict.remoteInstance !== status.instanceId) continue;
      problems.push(`SELF-CONFLICT ${name(i)}: ${conflict.path} conflicts with its own push (remote revision ${conflict.remoteRevision})`);
    }
  }
  return problems;
}

/** Sync conflicts opened under a strategy that never opens one (outside edits on disk have no strategy: any may). */
async function conflictsAgainstStrategy(cluster: Cluster): Promise<string[]> {
  const problems: string[] = [];
  for (let i = 0; i < cluster.size; i++) {
    for (const conflict of await cluster.call<ConflictRecord[]>(i, 'conflicts')) {
      if (conflict.strategy === undefined || conflict.strategy === 'merge' || conflict.strategy === 'manual') continue;
      problems.push(`${name(i)}: ${conflict.path} opened a conflict under ${conflict.rule}: that strategy must pick a side`);
    }
  }
  return problems;
}

/**
 * The side each resolved copy holds must be one its path's strategy drops:
 * `local` keeps this instance's side (the copy is another instance's),
 * `remote` keeps the store's (the copy is this instance's own); `newest`
 * may drop either; `fail-stop` is resolved with `local` at the end; merge
 * and manual never drop a side.
 */
export function resolvedAgainstStrategy(instance: string, resolved: Files, rules: readonly StrategyRule[]): string[] {
  const strategyOf = createStrategyMatcher(rules);
  const problems: string[] = [];
  for (const copyPath of resolved.keys()) {
    const copy = resolvedCopyOf(copyPath);
    if (copy === null) {
      problems.push(`${instance}: ${copyPath} looks like a resolved copy but its name does not parse`);
      continue;
    }
    const { strategy } = strategyOf(copy.original);
    const own = copy.instance === instance;
    const wrong =
      strategy === 'merge' || strategy === 'manual'
        ? 'a merge or manual path never drops a side'
        : (strategy === 'local' || strategy === 'fail-stop') && own
          ? `${strategy} keeps this instance's side, yet its own content was dropped`
          : strategy === 'remote' && !own
            ? "remote keeps the store's side, yet another instance's content was dropped"
            : undefined;
    if (wrong) problems.push(`${instance}: ${copyPath} (${strategy}): ${wrong}`);
  }
  return problems;
}

/** Resolves every open conflict by union (keeping both sides), round after round, until there is none. */
async function resolveConflicts(cluster: Cluster): Promise<number> {
  let total = 0;
  for (let round = 0; round < MAX_RESOLVE_ROUNDS; round++) {
    let resolved = 0;
    // One instance at a time: concurrent resolutions of one path would just conflict again.
    for (let i = 0; i < cluster.size; i++) {
      resolved += (await cluster.call<string[]>(i, 'resolveUnion')).length;
      if (resolved > 0) await cluster.settle();
    }
    total += resolved;
    if (resolved === 0) return total;
  }
  throw new Error(`conflicts kept coming back after ${MAX_RESOLVE_ROUNDS} rounds of resolution`);
}

async function snapshots(cluster: Cluster, flush: boolean): Promise<InstanceFiles[]> {
  const raw = await Promise.all(
    Array.from({ length: cluster.size }, (_, i) => cluster.call<Record<string, string>>(i, 'snapshot', { flush })),
  );
  return raw.map((files) => {
    const synced: Files = new Map();
    const copies: Files = new Map();
    const resolved: Files = new Map();
    for (const [path, base64] of Object.entries(files)) {
      const bytes = Buffer.from(base64, 'base64');
      if (isConflictCopy(path)) copies.set(path, bytes);
      else if (path.includes('.sync-resolved-')) resolved.set(path, bytes);
      else if (deniedReason(path) === null) synced.set(path, bytes);
    }
    return { synced, copies, resolved };
  });
}

function reportLost(problems: string[], oracle: Oracle, instances: InstanceFiles[], where: string): void {
  const present = new Set<string>();
  for (const { synced, copies, resolved } of instances) {
    for (const bytes of [...synced.values(), ...copies.values(), ...resolved.values()]) for (const t of tokensIn(bytes)) present.add(t);
  }
  for (const { token, addedBy } of oracle.lost(present)) {
    problems.push(`LOST ${token} ${where}: added by ${addedBy}; history: ${oracle.historyOf(token).join(' | ')}`);
  }
}

function reportDivergence(problems: string[], instances: InstanceFiles[]): void {
  const reference = describeFiles(instances[0]!.synced);
  for (const [i, files] of instances.entries()) {
    const view = describeFiles(files.synced);
    if (view !== reference) problems.push(`${name(i)} diverges from a:\n  a: ${reference}\n  ${name(i)}: ${view}`);
  }
}

function describeFiles(files: Files): string {
  return [...files.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([path, bytes]) => `${path}=${sha256(bytes).slice(0, 8)}[${tokensIn(bytes).join(',')}]`)
    .join(' ');
}

/** Differences between what the instance serves and what is on its disk. */
async function diskMismatches(root: string, synced: Files): Promise<string[]> {
  const problems: string[] = [];
  const onDisk = new Set<string>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = `/${join(entry.parentPath, entry.name).slice(root.length + 1)}`;
    if (deniedReason(path) === null && !isConflictCopy(path)) onDisk.add(path);
  }
  for (const [path, bytes] of synced) {
    if (!onDisk.has(path)) problems.push(`${path} is served but not on disk after a flush`);
    else if (!bytes.equals(await readFile(join(root, path)))) problems.push(`${path} on disk differs from memory after a flush`);
  }
  for (const path of onDisk) if (!synced.has(path)) problems.push(`${path} is on disk but not served`);
  return problems;
}

async function failureLog(cluster: Cluster, i: number): Promise<string> {
  const files = await cluster.call<Record<string, string>>(i, 'snapshot', { flush: false });
  const log = files['/.sync-failures.json'];
  return log === undefined ? 'none' : Buffer.from(log, 'base64').toString('utf8');
}

function storeMismatches(rows: Map<string, string>, files: Files): string[] {
  const problems: string[] = [];
  for (const [path, bytes] of files) {
    const hash = rows.get(path);
    if (hash === undefined) problems.push(`${path} is in the files but has no live row in the store`);
    else if (hash !== sha256(bytes)) problems.push(`${path} differs between the files and the store`);
  }
  for (const path of rows.keys()) if (!files.has(path)) problems.push(`${path} is live in the store but in no instance`);
  return problems;
}

/** Every instance's recent events, for a report of lost data (which instance replaced what, and when). */
async function recentEvents(cluster: Cluster): Promise<string[]> {
  const traces: string[] = [];
  for (let i = 0; i < cluster.size; i++) {
    traces.push(`${name(i)} recent events:\n    ${(await cluster.call<string[]>(i, 'trace')).join('\n    ')}`);
  }
  return traces;
}

async function healthProblems(cluster: Cluster): Promise<string[]> {
  const problems: string[] = [];
  for (const [i, status] of (await cluster.statuses()).entries()) {
    if (status.pending.length + status.failedPaths.length > 0) {
      problems.push(`${name(i)} status: ${JSON.stringify(status)}; failures: ${await failureLog(cluster, i)}`);
      problems.push(`${name(i)} recent events:\n    ${(await cluster.call<string[]>(i, 'trace')).join('\n    ')}`);
    }
    if (status.state !== 'live') problems.push(`${name(i)} is ${status.state}, not live (${status.error ?? status.pausedReason ?? ''})`);
    if (status.pending.length > 0) problems.push(`${name(i)} still has pending paths: ${status.pending.join(', ')}`);
    if (status.failedPaths.length > 0) problems.push(`${name(i)} has failed paths: ${status.failedPaths.join(', ')}`);
    if (status.conflicts.length > 0) problems.push(`${name(i)} has open conflicts: ${status.conflicts.join(', ')}`);
    const crashes = await cluster.call<string[]>(i, 'crashes');
    if (crashes.length > 0) problems.push(`${name(i)}: actors crashed without an injected fault: ${crashes.join('; ')}`);
  }
  return problems;
}
