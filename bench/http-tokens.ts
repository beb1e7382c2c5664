/**
 * The cost of named tokens on the request path (issue 14, Tokens): a GET and
 * a PUT of a small file over HTTP, sequential, against one in-process scope.
 * Baseline in the same run: the owner token with named tokens off
 * (`tokensFile: null`). Then the owner token with a token file of 20 named
 * tokens (every request stats the file and compares against each digest),
 * and a named token with a grant (plus the grant checks and the facade).
 *   node --import tsx bench/http-tokens.ts
 *   HTTP_TOKENS_OPS=2000 (the default)
 */
import { join } from 'node:path';
import { startScope } from '../supervisors/scope/scopes.js';
import { startHttpServer, type HttpServerHandle } from '../src/http/server.js';
import { TokenStore, tokensFilePath } from '../src/http/tokens-store.js';
import { fmt, measureSequential, runIfMain, throughputRow, withTempDir, type BenchRow, type Measurement } from './lib.js';

const OPS = Number(process.env.HTTP_TOKENS_OPS ?? 2_000);
const OWNER = 'bench-owner-token-0123456789';

async function measure(http: HttpServerHandle, token: string): Promise<{ get: Measurement; put: Measurement }> {
  const headers = { authorization: `Bearer ${token}` };
  const put = await measureSequential(OPS, async (i) => {
    const response = await fetch(`${http.url}/v1/files/notes/f${i % 50}.md`, { method: 'PUT', body: `line ${i}\n`, headers });
    if (!response.ok) throw new Error(`PUT ${response.status}`);
    await response.arrayBuffer();
  }, { warmup: 200 });
  const get = await measureSequential(OPS, async (i) => {
    const response = await fetch(`${http.url}/v1/files/notes/f${i % 50}.md`, { headers });
    if (!response.ok) throw new Error(`GET ${response.status}`);
    await response.arrayBuffer();
  }, { warmup: 200 });
  return { get, put };
}

export async function run(): Promise<BenchRow[]> {
  return withTempDir('http-tokens', async (dir) => {
    const root = join(dir, 'root');
    const scope = await startScope({ scopeKey: 'bench-http-tokens', root, debounceMs: 60_000 });
    const store = new TokenStore(tokensFilePath(root));
    for (let i = 0; i < 19; i++) await store.create({ name: `other-${i}`, read: [`/p${i}`] });
    const { token: named } = await store.create({ name: 'bench', read: ['/docs'], write: ['/notes'] });
    const rows: BenchRow[] = [];
    try {
      const plain = await startHttpServer({ scope, auth: { mode: 'token', token: OWNER, tokensFile: null }, port: 0 });
      const withFile = await startHttpServer({ scope, auth: { mode: 'token', token: OWNER }, port: 0 });
      try {
        // The baseline runs first and last: the spread between the two is the noise of this machine.
        const base = await measure(plain, OWNER);
        const owner = await measure(withFile, OWNER);
        const limited = await measure(withFile, named);
        const baseAgain = await measure(plain, OWNER);
        const runs = [
          ['owner, no token file (baseline)', base],
          ['owner, 20 named tokens', owner],
          ['named token with a grant', limited],
          ['owner, no token file (baseline, again)', baseAgain],
        ] as const;
        for (const [label, m] of runs) {
          rows.push(throughputRow('http-tokens', `GET ${label}`, m.get), throughputRow('http-tokens', `PUT ${label}`, m.put));
        }
        // Against the mean of the two baseline runs.
        const ratio = (m: Measurement, kind: 'get' | 'put') => fmt.ratio(m.p50Us! / ((base[kind].p50Us! + baseAgain[kind].p50Us!) / 2));
        rows.push({ bench: 'http-tokens', metric: 'GET p50, named token / baseline', value: ratio(limited.get, 'get') });
        rows.push({ bench: 'http-tokens', metric: 'PUT p50, named token / baseline', value: ratio(limited.put, 'put') });
        rows.push({ bench: 'http-tokens', metric: 'GET p50, owner with token file / baseline', value: ratio(owner.get, 'get') });
      } finally {
        await plain.close();
        await withFile.close();
      }
    } finally {
      await scope.stop();
    }
    return rows;
  });
}

await runIfMain(import.meta.url, run);
