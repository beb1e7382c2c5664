/**
 * The scope API as the public entry exports it: the same functions as
 * supervisors/scope/scopes.ts, which is imported on the first call. The
 * supervision tree pulls in the whole sync engine (its state database, the
 * merge code, the lifecycle machine, zod for sync-config.json); a program
 * that imports scopefs for its types, errors, a store or the filesystem
 * actor, or whose createFileSync is disabled, never loads it.
 */
import { canonicalScopeKey } from '../supervisors/scope/scope-key.js';
import type { RunningScope, ScopeOptions } from '../supervisors/scope/scopes.js';
import type { ScopeKey } from './types.js';

type ScopesModule = typeof import('../supervisors/scope/scopes.js');

let scopes: Promise<ScopesModule> | undefined;

/** The scopes module; every caller gets the one module instance, so the registry of running scopes is shared. */
export function loadScopes(): Promise<ScopesModule> {
  scopes ??= import('../supervisors/scope/scopes.js');
  return scopes;
}

/**
 * Starts the supervised tree of a scope, or returns the running one for the
 * same key (see supervisors/scope/scopes.ts). A bad key throws at the call,
 * as it does there.
 */
export function startScope(options: ScopeOptions): Promise<RunningScope> {
  canonicalScopeKey(options.scopeKey);
  return loadScopes().then((module) => module.startScope(options));
}

/** The running scope with this key, or undefined. */
export async function getScope(scopeKey: ScopeKey): Promise<RunningScope | undefined> {
  return (await loadScopes()).getScope(scopeKey);
}

/** Stops every running scope in this process. */
export async function stopAllScopes(): Promise<void> {
  return (await loadScopes()).stopAllScopes();
}
