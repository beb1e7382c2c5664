import { readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { redactSecrets } from '../redact.js';

/** What a running `serve` records in `<root>/.scopefs/serve.json` so other commands find it. */
export interface ServeInfo {
  url: string;
  pid: number;
  root: string;
  store: string | null;
  /** Whether requests need the bearer token. */
  auth: boolean;
  /** Where the token is, when serve generated or read it from a file. */
  tokenFile: string | null;
  startedAt: string;
}

export function serveInfoPath(root: string): string {
  return join(root, '.scopefs', 'serve.json');
}

export function tokenFilePath(root: string): string {
  return join(root, '.scopefs', 'token');
}

export async function writeServeInfo(info: ServeInfo): Promise<void> {
  await writeFileAtomic(serveInfoPath(info.root), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}

/** Records this process as the serve of `root` (one root, or a data directory) and returns what it wrote. */
export async function publishServeInfo(serve: { url: string; root: string; store: string | undefined; auth: boolean; tokenFile: string | null }): Promise<ServeInfo> {
  const info: ServeInfo = {
    url: serve.url,
    pid: process.pid,
    root: serve.root,
    // Shown and readable by others: never the secrets (nothing reads the real URL back from here).
    store: serve.store === undefined ? null : redactSecrets(serve.store),
    auth: serve.auth,
    tokenFile: serve.tokenFile,
    startedAt: new Date().toISOString(),
  };
  await writeServeInfo(info);
  return info;
}

/** Removes serve.json if it still describes this process (a newer serve may have replaced it). */
export async function removeServeInfo(root: string, pid = process.pid): Promise<void> {
  const info = await readServeInfo(root);
  if (info?.pid === pid) await rm(serveInfoPath(root), { force: true });
}

/** The serve running for `root`: its recorded process is alive and its port accepts connections. */
export async function findServe(root: string): Promise<ServeInfo | undefined> {
  const info = await readServeInfo(root);
  if (!info || !processAlive(info.pid)) return undefined;
  return (await accepts(new URL(info.url))) ? info : undefined;
}

async function readServeInfo(root: string): Promise<ServeInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(serveInfoPath(root), 'utf8')) as Partial<ServeInfo>;
    return typeof info.url === 'string' && Number.isInteger(info.pid) ? (info as ServeInfo) : undefined;
  } catch {
    return undefined; // missing or torn: no serve to talk to
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A stale serve.json can name a recycled pid; a listening port settles it. */
function accepts(url: URL, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
