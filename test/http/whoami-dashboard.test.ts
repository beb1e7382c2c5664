/** GET /v1/whoami (the caller's grant, no secret) and the dashboard's static files (no auth, strict CSP). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDashboardPath, loadDashboard, sendDashboard } from '../../src/http/dashboard.js';
import { createScopeHandler } from '../../src/http/handler.js';
import { TokenStore, tokensFilePath } from '../../src/http/tokens-store.js';
import { startTestServer, TOKEN, type TestServer } from './helpers.js';

let server: TestServer;
let limited: string;

beforeAll(async () => {
  server = await startTestServer();
  limited = (await new TokenStore(tokensFilePath(server.root)).create({ name: 'ci-bot', read: ['/docs'], write: ['/notes'], delete: false, move: true })).token;
});
afterAll(() => server.close());

describe('GET /v1/whoami', () => {
  it('answers the owner as the owner', async () => {
    const response = await server.call('/v1/whoami');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ actor: 'owner', owner: true });
  });

  it('answers a named token its grant, and nothing secret', async () => {
    const response = await fetch(`${server.url}/v1/whoami`, { headers: { authorization: `Bearer ${limited}` } });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ actor: 'token:ci-bot', owner: false, grant: { read: ['/docs'], write: ['/notes'], delete: false, move: true } });
    expect(text).not.toContain(limited);
    expect(text).not.toContain(TOKEN);
  });

  it('refuses a wrong token', async () => {
    expect((await fetch(`${server.url}/v1/whoami`, { headers: { authorization: 'Bearer wrong-token-0000000000' } })).status).toBe(401);
  });
});

describe('the dashboard files', () => {
  it('answer 503 saying what to do when the bundle was not built', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'scopefs-no-dashboard-'));
    expect(loadDashboard([empty])).toBeUndefined();
    const bare = createServer((req, res) => sendDashboard(req, res, '/', loadDashboard([empty]) ?? null));
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(bare.address() as AddressInfo).port}/`);
      expect(response.status).toBe(503);
      expect(await response.text()).toContain('Run `npm run build`');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    } finally {
      bare.close();
      await rm(empty, { recursive: true });
    }
  });

  it('are served without a token, with a content security policy', async () => {
    const page = await fetch(`${server.url}/`);
    // 200 with the built bundle, 503 saying how to build it otherwise: never 401, never 404.
    expect([200, 503]).toContain(page.status);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const body = await page.text();
    if (page.status === 503) expect(body).toContain('npm run build');
    else {
      expect(page.headers.get('cache-control')).toBe('no-cache');
      expect(body).toContain('<script type="module" src="dashboard/app.js">');
      expect(body).not.toMatch(/<script>(?!<)/); // no inline script
      const script = await fetch(`${server.url}/dashboard/app.js`);
      expect(script.status).toBe(200);
      expect(script.headers.get('content-type')).toContain('javascript');
    }
  });

  it('are served under a mounted handler\'s base path, the bare base path redirected to it with a slash', async () => {
    const handler = createScopeHandler({ scope: server.scope, auth: () => ({ actor: 'user:app' }), basePath: '/scopefs' });
    const app = createServer((req, res) => handler(req, res));
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    try {
      const bare = await fetch(`${base}/scopefs`, { redirect: 'manual' });
      expect(bare.status).toBe(308);
      expect(bare.headers.get('location')).toBe('/scopefs/');
      const page = await fetch(`${base}/scopefs/`);
      expect([200, 503]).toContain(page.status);
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await (await fetch(`${base}/scopefs/v1/whoami`)).json()).toEqual({ actor: 'user:app', owner: true });
    } finally {
      app.close();
      handler.close();
    }
  });

  it('are only the bundle\'s own names: anything else is the API (and needs a token)', async () => {
    expect(isDashboardPath('GET', '/')).toBe(true);
    expect(isDashboardPath('HEAD', '/dashboard/app.css')).toBe(true);
    expect(isDashboardPath('POST', '/')).toBe(false);
    expect(isDashboardPath('GET', '/dashboard/../.scopefs/token')).toBe(false);
    expect(isDashboardPath('GET', '/dashboard/other.js')).toBe(false);
    expect(isDashboardPath('GET', '/dashboard/toString')).toBe(false);
    expect(isDashboardPath('GET', '/dashboard/__proto__')).toBe(false);
    expect((await fetch(`${server.url}/dashboard/other.js`)).status).toBe(401);
  });
});
