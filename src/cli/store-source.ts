import { readFile } from 'node:fs/promises';
import { ScopeFsError } from '../errors.js';
import { holdsSecret } from '../redact.js';
import { UsageError } from './options.js';

/** The environment variable that may hold the whole store URL, secrets included. */
export const STORE_ENV = 'SCOPEFS_STORE';

export interface StoreSourceOptions {
  /** `--store URL`: visible to every user of the machine in `ps`. */
  store?: string;
  /** `--store-file PATH`: a file holding the URL, so its secrets stay off the command line. */
  storeFile?: string;
}

/**
 * The store URL the user gave, from `--store`, `--store-file` or
 * `SCOPEFS_STORE` (in that order); undefined when none was given. A secret in
 * `--store` gets a warning on stderr: the command line is public.
 */
export async function givenStoreUrl(
  options: StoreSourceOptions,
  env: Record<string, string | undefined> = process.env,
  warn: (message: string) => void = (message) => process.stderr.write(`${message}\n`),
): Promise<string | undefined> {
  if (options.store !== undefined && options.storeFile !== undefined) {
    throw new UsageError('give the store either with --store or with --store-file, not both');
  }
  if (options.store !== undefined) {
    if (holdsSecret(options.store)) warn(ARGV_WARNING);
    return options.store;
  }
  if (options.storeFile !== undefined) return readStoreFile(options.storeFile);
  const fromEnv = env[STORE_ENV]?.trim();
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

const ARGV_WARNING =
  'scopefs: warning: the --store URL holds a password or key, and the command line is visible to every user of ' +
  `this machine (ps); put the URL in a file (--store-file PATH) or in ${STORE_ENV}, or the password in PGPASSWORD`;

async function readStoreFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ScopeFsError('ENOENT', `the store file ${path} does not exist (--store-file)`);
    throw new ScopeFsError('EIO', `cannot read the store file ${path} (--store-file): ${code ?? String(err)}`, { cause: err });
  }
  const url = text.trim();
  if (url === '' || url.includes('\n')) {
    throw new ScopeFsError('EINVAL', `the store file ${path} must hold one store URL on one line`);
  }
  return url;
}
