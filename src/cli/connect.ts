import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ScopeFsError } from '../errors.js';
import { findServe, type ServeInfo } from './discovery.js';
import { httpTarget } from './http-target.js';
import { rootOf, type ScopeCliOptions } from './options.js';
import { wantsProgress } from './progress.js';
import { givenStoreUrl } from './store-source.js';
import { checkStoreUrl, defaultStoreUrl } from './store-url.js';
import type { ScopeTarget } from './target.js';

export interface TargetNeeds {
  /** Sync commands open sync in direct mode even without --store (with the default store). */
  sync?: boolean;
  /** Whether a missing root may be created (only commands that write). */
  create?: boolean;
}

/**
 * The running serve for the root when there is one (talking to it over
 * HTTP, so two processes never own one root), else the scope opened here.
 */
export async function openTarget(options: ScopeCliOptions, needs: TargetNeeds = {}): Promise<ScopeTarget> {
  const root = rootOf(options);
  const given = await givenStoreUrl(options);
  const serve = await findServe(root);
  if (serve) return httpTarget(serve.url, await clientToken(options, serve));
  if (!needs.create && !existsSync(root)) {
    throw new ScopeFsError('ENOENT', `no workspace at ${root} (pass --root, or start one with: scopefs serve --root ${root})`);
  }
  const store = given ?? (needs.sync ? defaultStoreUrl(root) : undefined);
  // Loaded only here: the scope runtime is not needed to talk to a serve.
  const { openDirect } = await import('./direct-target.js');
  return openDirect({
    root,
    scope: options.scope,
    store: store === undefined ? undefined : checkStoreUrl(store),
    progress: wantsProgress(options.json),
  });
}

/** Runs `work` against the target and always closes it (direct mode: stops the scope, which flushes). */
export async function withTarget<T>(
  options: ScopeCliOptions,
  needs: TargetNeeds,
  work: (target: ScopeTarget) => Promise<T>,
): Promise<T> {
  const target = await openTarget(options, needs);
  try {
    return await work(target);
  } finally {
    await target.close();
  }
}

/** --token, then SCOPEFS_TOKEN, then the token file the serve recorded. */
export async function clientToken(options: ScopeCliOptions, serve: ServeInfo): Promise<string | undefined> {
  if (options.token) return options.token;
  if (process.env.SCOPEFS_TOKEN) return process.env.SCOPEFS_TOKEN;
  if (!serve.auth || !serve.tokenFile) return undefined;
  return (await readFile(serve.tokenFile, 'utf8')).trim();
}
