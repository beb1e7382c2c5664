import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crossSiteRefusal } from '../../src/http/origin.js';
import { startScope, type RunningScope } from '../../supervisors/scope/scopes.js';
import { call as callTool } from '../mcp/scenario.js';
import { rawRequest, startTestServer, TOKEN, type TestServer } from './helpers.js';

const EVIL = 'http://evil.example';
const MCP_INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'page', version: '1' } },
});

/** The requests a page on another site can make a browser send without a preflight, and a few more. */
function hostileRequests(port: number): Array<{ name: string; method: string; path: string; headers: Record<string, string>; body?: string }> {
  const move = JSON.stringify({ from: '/victim.md', to: '/stolen.md' });
  return [
    { name: 'text/plain POST /v1/move from a foreign Origin', method: 'POST', path: '/v1/move', headers: { origin: EVIL, 'content-type': 'text/plain' }, body: move },
    { name: 'form POST /v1/move from a foreign Origin', method: 'POST', path: '/v1/move', headers: { origin: EVIL, 'content-type': 'application/x-www-form-urlencoded' }, body: `${move}=` },
    { name: 'multipart POST /v1/move from a foreign Origin', method: 'POST', path: '/v1/move', headers: { origin: EVIL, 'content-type': 'multipart/form-data; boundary=x' }, body: move },
    { name: 'text/plain POST /v1/conflicts/resolve from a foreign Origin', method: 'POST', path: '/v1/conflicts/resolve', headers: { origin: EVIL, 'content-type': 'text/plain' }, body: JSON.stringify({ path: '/c.bin', keep: 'remote' }) },
    { name: 'Sec-Fetch-Site: cross-site without Origin', method: 'POST', path: '/v1/move', headers: { 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' }, body: move },
    { name: 'Sec-Fetch-Site: same-site (another origin of the site)', method: 'POST', path: '/v1/move', headers: { 'sec-fetch-site': 'same-site', 'content-type': 'application/json' }, body: move },
    { name: 'Origin: null (sandboxed frame, file://)', method: 'POST', path: '/v1/move', headers: { origin: 'null', 'content-type': 'text/plain' }, body: move },
    { name: 'another port on loopback', method: 'POST', path: '/v1/move', headers: { origin: `http://127.0.0.1:${port + 1}`, 'content-type': 'application/json' }, body: move },
    { name: 'a look-alike host', method: 'POST', path: '/v1/move', headers: { origin: `http://127.0.0.1.evil.example:${port}`, 'content-type': 'application/json' }, body: move },
    { name: 'PUT of a file from a foreign Origin', method: 'PUT', path: '/v1/files/victim.md', headers: { origin: EVIL, 'content-type': 'text/plain' }, body: 'defaced' },
    { name: 'DELETE of a file from a foreign Origin', method: 'DELETE', path: '/v1/files/victim.md', headers: { origin: EVIL } },
    { name: 'flush from a foreign Origin', method: 'POST', path: '/v1/flush', headers: { origin: EVIL, 'content-type': 'text/plain' } },
    { name: 'MCP POST from a foreign Origin', method: 'POST', path: '/mcp', headers: { origin: EVIL, 'content-type': 'text/plain', accept: 'application/json, text/event-stream' }, body: MCP_INIT },
  ];
}

describe.each([
  ['--no-auth', { mode: 'none' } as const, {}],
  ['a bearer token', { mode: 'token', token: TOKEN } as const, { authorization: `Bearer ${TOKEN}` }],
])('cross-site requests with %s', (_mode, auth, credentials) => {
  let server: TestServer;
  let other: RunningScope;
  let port: number;
  const send = (method: string, path: string, headers: Record<string, string>, body?: string) =>
    rawRequest(server.url, method, path, { ...credentials, ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) }, body);
  const victim = async () => (await send('GET', '/v1/files/victim.md', {})).body;

  beforeAll(async () => {
    const store = `memory:cross-site-${randomBytes(4).toString('hex')}`;
    server = await startTestServer({ auth, sync: () => ({ store, instanceId: 'served', debounceMs: 5 }) });
    port = server.http.port;
    other = await startScope({ scopeKey: `cross-site-other-${randomBytes(3).toString('hex')}`, sync: { store, instanceId: 'other', debounceMs: 5 } });
    await server.scope.fs.writeFile('/victim.md', 'original');
    // An open conflict on /c.bin, so a resolve that got through would act.
    const mine = server.scope;
    const conflicted = new Promise<void>((resolve) => {
      const off = mine.sync!.subscribe((event) => event.type === 'conflict' && (off(), resolve()));
    });
    await mine.fs.writeFile('/c.bin', Buffer.from([1]));
    await mine.sync!.idle();
    await other.sync!.idle();
    await mine.sync!.pause();
    await other.fs.writeFile('/c.bin', Buffer.from([2]));
    await other.sync!.idle();
    await mine.fs.writeFile('/c.bin', Buffer.from([3]));
    await mine.sync!.resume();
    await conflicted;
  }, 60_000);

  afterAll(async () => {
    await other?.stop();
    await server?.close();
  });

  it('refuses every browser form of a cross-site change with 403 EORIGIN, and nothing changes', async () => {
    for (const request of hostileRequests(port)) {
      const answer = await send(request.method, request.path, request.headers, request.body);
      expect({ name: request.name, status: answer.status }).toEqual({ name: request.name, status: 403 });
      const error = JSON.parse(answer.body).error;
      expect(error.code).toBe('EORIGIN');
      expect(error.message).toMatch(/cross-site request refused: .*not browsers/);
    }
    expect(await victim()).toBe('original');
    expect((await send('GET', '/v1/files/stolen.md', {})).status).toBe(404);
    expect((await server.scope.sync!.conflicts()).map((c) => c.path)).toEqual(['/c.bin']);
  });

  it('refuses a JSON endpoint given another body type with 415, even without an Origin', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', undefined]) {
      const headers: Record<string, string> = type === undefined ? {} : { 'content-type': type };
      const answer = await send('POST', '/v1/move', headers, JSON.stringify({ from: '/victim.md', to: '/stolen.md' }));
      expect(answer.status).toBe(415);
      expect(JSON.parse(answer.body).error).toEqual({
        code: 'EMEDIATYPE',
        message: `this endpoint takes a JSON body: send it with Content-Type: application/json (got ${type === undefined ? 'no Content-Type' : `Content-Type: ${type}`})`,
      });
    }
    expect(await victim()).toBe('original');
  });

  it('serves its own origin (any loopback alias, same port), Sec-Fetch-Site none, and clients without an Origin', async () => {
    const json = { 'content-type': 'application/json; charset=utf-8' };
    const moves: Array<Record<string, string>> = [
      { origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' },
      { origin: `http://localhost:${port}` },
      { origin: `http://[::1]:${port}` },
      { 'sec-fetch-site': 'none' },
      {},
    ];
    let at = '/victim.md';
    for (const [i, headers] of moves.entries()) {
      const to = `/moved-${i}.md`;
      const answer = await send('POST', '/v1/move', { ...json, ...headers }, JSON.stringify({ from: at, to }));
      expect({ headers, status: answer.status }).toEqual({ headers, status: 200 });
      at = to;
    }
    expect((await send('POST', '/v1/move', json, JSON.stringify({ from: at, to: '/victim.md' }))).status).toBe(200);
    // A raw file body keeps any type; reads are not state-changing and get no CORS headers.
    expect((await send('PUT', '/v1/files/raw.txt', { 'content-type': 'text/plain' }, 'raw')).status).toBe(200);
    const read = await send('GET', '/v1/files/raw.txt', { origin: EVIL });
    expect(read.status).toBe(200);
    expect(read.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('still serves the MCP Streamable HTTP client', async () => {
    const client = new Client({ name: 'scopefs-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers: credentials } }));
    try {
      expect((await callTool(client, 'write_file', { path: '/via-mcp.md', content: 'ok' })).isError).toBe(false);
    } finally {
      await client.close();
    }
    expect((await send('GET', '/v1/files/via-mcp.md', {})).body).toBe('ok');
  });
});

describe('crossSiteRefusal', () => {
  const host = '127.0.0.1:4480';
  it.each([
    ['GET', { origin: EVIL }, undefined],
    ['HEAD', { fetchSite: 'cross-site' }, undefined],
    ['POST', {}, undefined],
    ['POST', { origin: 'http://127.0.0.1:4480' }, undefined],
    ['POST', { origin: 'http://LOCALHOST:4480' }, undefined],
    ['POST', { origin: 'http://127.0.0.1:4480', fetchSite: 'same-origin' }, undefined],
    ['PATCH', { fetchSite: 'none' }, undefined],
    ['POST', { origin: 'http://127.0.0.1' }, /Origin "http:\/\/127.0.0.1" is not this server's/],
    ['POST', { origin: 'https://127.0.0.1:4480' }, undefined],
    ['PUT', { origin: EVIL }, /not this server's \(127.0.0.1:4480\)/],
    ['DELETE', { origin: 'null' }, /Origin "null"/],
    ['PATCH', { origin: 'http://127.0.0.1:4480', fetchSite: 'cross-site' }, /Sec-Fetch-Site: cross-site/],
    ['POST', { fetchSite: 'same-site' }, /Sec-Fetch-Site: same-site/],
    ['POST', { origin: 'not a url' }, /not this server's/],
    ['POST', { origin: 'ftp://127.0.0.1:4480' }, /not this server's/],
  ] as const)('%s %j', (method, facts, expected) => {
    const refusal = crossSiteRefusal({ method, host, ...facts });
    if (expected === undefined) expect(refusal).toBeUndefined();
    else expect(refusal).toMatch(expected);
  });

  it('compares with the Host the client addressed when serving beyond loopback', () => {
    expect(crossSiteRefusal({ method: 'POST', origin: 'http://files.example.com', host: 'files.example.com' })).toBeUndefined();
    expect(crossSiteRefusal({ method: 'POST', origin: 'https://files.example.com', host: 'files.example.com:443' })).toBeUndefined();
    expect(crossSiteRefusal({ method: 'POST', origin: 'http://localhost:4480', host: 'files.example.com:4480' })).toMatch(/not this server's/);
    expect(crossSiteRefusal({ method: 'POST', origin: 'http://files.example.com' })).toMatch(/no Host header/);
  });
});
