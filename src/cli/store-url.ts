import { dirname, join } from 'node:path';
import { isStoreScheme, schemeOf, supportedSchemes } from '../../persistence/stores/store-schemes.js';
import { ScopeFsError } from '../errors.js';

/**
 * The default store of a root: a SQLite file in a `.scopefs/` folder beside
 * the root, so instances whose roots sit side by side share it.
 */
export function defaultStoreUrl(root: string): string {
  return `sqlite:${join(dirname(root), '.scopefs', 'store.db')}`;
}

/**
 * Fails fast on a store URL the CLI cannot open (a typo would otherwise only
 * show up as sync retrying forever): its scheme must be in the store table.
 * Reachability is not checked: an unreachable store is something sync rides out.
 */
export function checkStoreUrl(url: string): string {
  const scheme = schemeOf(url);
  if (!isStoreScheme(scheme)) {
    // Name only the scheme: the rest of a URL may hold a password.
    const given = scheme === undefined ? 'a store URL needs a scheme' : `unknown store scheme "${scheme}:"`;
    throw new ScopeFsError('EINVAL', `${given}; use ${supportedSchemes()}`);
  }
  return url;
}
