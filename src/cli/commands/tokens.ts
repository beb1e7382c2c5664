import { resolve } from 'node:path';
import { Command } from 'commander';
import { canonicalScopeKey } from '../../../supervisors/scope/scope-key.js';
import { UsageError } from '../options.js';
import { rootOf } from '../options.js';
import { Output, columns } from '../output.js';
import { describeGrant } from '../../http/tokens-grant.js';
import { TokenStore, parseLifetime, tokensFilePath, type TokenInfo } from '../../http/tokens-store.js';

interface TokenCliOptions {
  root: string;
  /** A multi-scope server's data directory (serve --data): its tokens name their scopes. */
  data?: string;
  json?: boolean;
}

interface CreateOptions extends TokenCliOptions {
  name: string;
  read: string[];
  write: string[];
  delete: boolean;
  move: boolean;
  expires?: string;
  forScope: string[];
}

/**
 * `scopefs token create|list|revoke`: the named, limited tokens a serve of
 * the root accepts beside the owner token. They are kept hashed in
 * `<root>/.scopefs/tokens.json`; a running serve sees a change on its next
 * request (and closes a revoked token's event streams at once).
 */
export function tokenCommand(): Command {
  const token = new Command('token').description('create, list and revoke limited bearer tokens (read/write path prefixes)');
  token.addCommand(withRoot(new Command('create'))
    .description('create a token and print it (once: only its hash is kept)')
    .requiredOption('--name <name>', 'the token\'s name, recorded as the actor (token:<name>) of its changes')
    .option('--read <prefix>', 'a path prefix it may read (repeatable)', collect, [])
    .option('--write <prefix>', 'a path prefix it may write, and read (repeatable)', collect, [])
    .option('--no-delete', 'it may not delete files')
    .option('--no-move', 'it may not move files')
    .option('--expires <lifetime>', 'lifetime, e.g. 30d, 12h, 90m (default: never)')
    .option('--for-scope <key>', 'with --data: a scope it is for (repeatable, at least one)', collect, [])
    .action((options: CreateOptions) => create(options)));
  token.addCommand(withRoot(new Command('list'))
    .description('list the tokens and what they grant (never the tokens themselves)')
    .action((options: TokenCliOptions) => list(options)));
  token.addCommand(withRoot(new Command('revoke'))
    .description('revoke a token: a running serve refuses it from its next request on')
    .argument('<name>', 'the token to revoke')
    .action((name: string, options: TokenCliOptions) => revoke(name, options)));
  return token;
}

function withRoot(command: Command): Command {
  return command
    .option('--root <dir>', 'the workspace directory', './workspace')
    .option('--data <dir>', 'a multi-scope server\'s data directory (serve --data) instead of a root')
    .option('--json', 'machine-readable output')
    .exitOverride()
    .showHelpAfterError();
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function storeOf(options: TokenCliOptions): TokenStore {
  return new TokenStore(tokensFilePath(options.data === undefined ? rootOf(options) : resolve(options.data)));
}

async function create(options: CreateOptions): Promise<void> {
  const expiresInMs = options.expires === undefined ? undefined : parseLifetime(options.expires);
  const { token, info } = await storeOf(options).create({
    name: options.name,
    read: options.read,
    write: options.write,
    delete: options.delete,
    move: options.move,
    scopes: scopesFor(options),
    expiresInMs,
  });
  const output = new Output(options.json === true);
  output.result({ token, ...info }, () => [
    token,
    `token "${info.name}": ${describeGrant(info)}${info.expiresAt ? `; expires ${info.expiresAt}` : ''}`,
    'Shown only this once: store it now (only its hash is kept).',
  ]);
}

async function list(options: TokenCliOptions): Promise<void> {
  const tokens = await storeOf(options).list();
  const now = Date.now();
  new Output(options.json === true).result({ tokens }, () =>
    tokens.length === 0 ? 'No tokens (scopefs token create makes one).' : columns(tokens.map((token) => row(token, now))),
  );
}

async function revoke(name: string, options: TokenCliOptions): Promise<void> {
  const revoked = await storeOf(options).revoke(name);
  new Output(options.json === true).result({ revoked: revoked.name }, () => `Revoked token "${revoked.name}".`);
}

function row(token: TokenInfo, now: number): string[] {
  const expiry = token.expiresAt === null ? 'never expires' : `${Date.parse(token.expiresAt) <= now ? 'EXPIRED' : 'expires'} ${token.expiresAt}`;
  return [token.name, describeGrant(token), expiry];
}

/** A multi-scope server's token names its scopes; a root's token has none. */
function scopesFor(options: CreateOptions): string[] | undefined {
  if (options.data === undefined) {
    if (options.forScope.length > 0) throw new UsageError('--for-scope needs --data (a multi-scope server\'s data directory)');
    return undefined;
  }
  if (options.forScope.length === 0) throw new UsageError('with --data, name the scopes the token is for: --for-scope KEY (repeatable)');
  return options.forScope.map((key) => canonicalScopeKey(key));
}
