/**
 * The dashboard's static files: `GET /` and `GET /dashboard/<asset>`. They
 * hold no secret (the page asks for the token and then speaks the public
 * API), so they are served without authentication, with a content security
 * policy that lets the page load only its own script and talk only to this
 * server.
 *
 * The bundle is built from `dashboard/` by `npm run build` into
 * `dist/dashboard/`; both a built package and a source checkout find it.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DASHBOARD_ASSET_PREFIX = '/dashboard/';

const ASSET_TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const here = dirname(fileURLToPath(import.meta.url));
// From dist/src/http/ the bundle is at dist/dashboard; from src/http/ at dist/dashboard of the checkout.
const CANDIDATE_DIRS = [join(here, '..', '..', 'dashboard'), join(here, '..', '..', 'dist', 'dashboard')];

export type DashboardFiles = Map<string, Buffer>;

/** The built bundle's files by name, from the first of `dirs` that has one; undefined when nothing is built. */
export function loadDashboard(dirs: readonly string[] = CANDIDATE_DIRS): DashboardFiles | undefined {
  const dir = dirs.find((candidate) => existsSync(join(candidate, 'index.html')));
  if (!dir) return undefined;
  return new Map(Object.keys(ASSET_TYPES).map((name) => [name, readFileSync(join(dir, name))]));
}

let cached: DashboardFiles | undefined;
/** Read once found (a build while serving needs a restart); looked for again while missing. */
const bundle = (): DashboardFiles | undefined => (cached ??= loadDashboard());

/** Whether `rawPath` (without base path or query) is one of the dashboard's files. */
export function isDashboardPath(method: string | undefined, rawPath: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  return rawPath === '/' || rawPath === '/index.html' || (rawPath.startsWith(DASHBOARD_ASSET_PREFIX) && Object.hasOwn(ASSET_TYPES, rawPath.slice(DASHBOARD_ASSET_PREFIX.length)));
}

/** Answers a request isDashboardPath accepted. */
export function sendDashboard(req: IncomingMessage, res: ServerResponse, rawPath: string, files: DashboardFiles | null = bundle() ?? null): void {
  if (!files) {
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
    res.end('The scopefs dashboard is not built. Run `npm run build` in the scopefs package, then reload.\n');
    return;
  }
  const name = rawPath.startsWith(DASHBOARD_ASSET_PREFIX) ? rawPath.slice(DASHBOARD_ASSET_PREFIX.length) : 'index.html';
  const body = files.get(name)!;
  res.writeHead(200, {
    'content-type': ASSET_TYPES[name]!,
    'content-length': body.byteLength,
    // The page itself is revalidated (it names the current assets); assets change only with a new build.
    'cache-control': name === 'index.html' ? 'no-cache' : 'public, max-age=300',
    ...SECURITY_HEADERS,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
