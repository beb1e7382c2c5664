/**
 * Browser tests of the dashboard: a real chromium (Debian's, driven by
 * playwright-core) against a real `scopefs serve` process.
 *
 * Chromium is /usr/bin/chromium, or SCOPEFS_CHROMIUM. Where it is missing
 * the tests skip with a message; in CI (CI=true) they fail instead.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { REPO, startServe, type ServeProcess } from '../cli/helpers.js';
import { buildDashboard } from '../../dashboard/build.js';

export const CHROMIUM = process.env['SCOPEFS_CHROMIUM'] ?? '/usr/bin/chromium';
const IN_CI = process.env['CI'] === 'true';

/**
 * Why the browser tests cannot run here, or undefined when they can: the
 * browser must exist and start. In CI a missing or unstartable browser is an error.
 */
export async function browserUnavailable(): Promise<string | undefined> {
  let reason: string | undefined;
  if (!existsSync(CHROMIUM)) reason = `chromium not found at ${CHROMIUM} (install Debian's chromium or set SCOPEFS_CHROMIUM)`;
  else {
    try {
      await (await launchBrowser()).close();
    } catch (err) {
      reason = `chromium at ${CHROMIUM} does not start: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
    }
  }
  if (reason === undefined) return undefined;
  if (IN_CI) throw new Error(`dashboard browser tests need a browser in CI: ${reason}`);
  console.warn(`skipping the dashboard browser tests: ${reason}`);
  return reason;
}

let built: Promise<unknown> | undefined;
/**
 * Builds the bundle once per test file into dist/dashboard, where serve
 * finds it: beside it first, then renamed in, so a serve of another test
 * file never reads a half-written file.
 */
export function ensureBuilt(): Promise<unknown> {
  built ??= (async () => {
    const target = join(REPO, 'dist', 'dashboard');
    const staging = join(REPO, 'dist', `.dashboard-${process.pid}`);
    const { sizes } = await buildDashboard({ outdir: staging });
    await mkdir(target, { recursive: true });
    for (const name of Object.keys(sizes)) await rename(join(staging, name), join(target, name));
    await rm(staging, { recursive: true, force: true });
  })();
  return built;
}

export async function launchBrowser(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  // playwright refuses --user-data-dir on launch(): it gives every launch a fresh temporary profile of its own.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    browser,
    close: () => browser.close(),
  };
}

export interface Served {
  serve: ServeProcess;
  url: string;
  root: string;
  token: string;
  dir: string;
  stop: () => Promise<void>;
}

/** `scopefs serve` on a fresh workspace (one scope), or with `--data` (multi-scope) when asked. */
export async function startServer(options: { multi?: boolean; args?: string[]; env?: Record<string, string> } = {}): Promise<Served> {
  const dir = await mkdtemp(join(tmpdir(), 'scopefs-dashboard-'));
  const root = join(dir, options.multi ? 'data' : 'ws');
  const token = 'dashboard-test-owner-token-0123456789';
  const where = options.multi ? ['--data', root] : ['--root', root];
  const serve = await startServe([...where, '--port', '0', ...(options.args ?? [])], { SCOPEFS_TOKEN: token, ...options.env });
  return {
    serve,
    url: serve.info.url,
    root,
    token,
    dir,
    stop: async () => {
      await serve.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Opens the dashboard and signs in; resolves once the shell shows. */
export async function signIn(context: BrowserContext, url: string, token: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  await page.getByLabel('Token').fill(token);
  await page.getByLabel('Token').press('Enter');
  await page.locator('.bar nav').waitFor();
  return page;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = join(REPO, 'test-output', 'screenshots');
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** An HTTP client beside the browser (another program writing to the scope). */
export async function http(served: Served, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${served.url}${path}`, { method, body, headers: { authorization: `Bearer ${served.token}`, ...headers } });
}

export const readDisk = (served: Served, path: string) => readFile(join(served.root, path), 'utf8');
