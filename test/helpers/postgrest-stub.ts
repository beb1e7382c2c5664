/**
 * A `fetch` standing in for Supabase's API gateway and PostgREST, for RPC
 * calls only (no real Supabase is reachable here). It checks the request
 * supabase-js sends (POST /rest/v1/rpc/<fn>, a JSON body of named arguments,
 * `apikey` and `Authorization: Bearer` headers, Content-Profile) and answers
 * the way PostgREST does, by running the function in the real PostgreSQL
 * database:
 *
 *   BEGIN [READ ONLY for stable functions];
 *   SET LOCAL ROLE <role claim>; set_config('request.jwt.claims', <claims>, true);
 *   SELECT to_jsonb(public.<fn>(a => x.a, ...)) FROM json_to_record(<body>) x(a type, ...);
 *
 * So RLS, grants and the functions' real results are exercised; only HTTP is
 * simulated. Response shapes follow PostgREST: 200 with the JSON value, or an
 * error status with `{code, message, details, hint}`.
 */
import pg from 'pg';

export interface StubKeys {
  /** The publishable (anon) key: role `anon` unless a user JWT is sent. */
  publishable: string;
  /** The secret (service role) key: role `service_role`, bypasses RLS. */
  secret: string;
}

export interface RecordedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
  status: number;
  role: string;
}

export interface PostgrestStub {
  fetch: typeof fetch;
  requests: RecordedRequest[];
  /** While down, fetch rejects like an unreachable host (TypeError: fetch failed). */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

export const STUB_KEYS: StubKeys = { publishable: 'sb_publishable_stub', secret: 'sb_secret_stub' };

/** An unsigned JWT-shaped token (the stub trusts its claims, as a gateway that verified them would). */
export function userJwt(claims: Record<string, unknown>): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ role: 'authenticated', ...claims })}.stub-signature`;
}

interface FunctionInfo {
  args: Map<string, string>;
  readOnly: boolean;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message));
  }
}

export function createPostgrestStub(databaseUrl: string, keys: StubKeys = STUB_KEYS): PostgrestStub {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 8 });
  pool.on('error', () => undefined);
  const requests: RecordedRequest[] = [];
  let down = false;

  const stubFetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    if (down) throw new TypeError('fetch failed');
    const request = new Request(input, init);
    const headers = Object.fromEntries(request.headers.entries());
    const text = await request.text();
    const record: RecordedRequest = { url: request.url, method: request.method, headers, body: undefined, status: 0, role: '' };
    requests.push(record);
    try {
      record.body = text === '' ? {} : JSON.parse(text);
      const fn = checkShape(request, headers);
      const claims = authenticate(headers, keys);
      record.role = String(claims.role);
      const result = await callFunction(pool, fn, record.body, claims);
      record.status = 200;
      return json(200, result);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      record.status = err.status;
      return json(err.status, err.body);
    }
  };

  return {
    fetch: stubFetch as typeof fetch,
    requests,
    setDown: (value) => (down = value),
    close: () => pool.end(),
  };
}

function json(status: number, value: unknown): Response {
  return new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json; charset=utf-8' } });
}

/** The function name, after checking the request is what PostgREST expects for RPC. */
function checkShape(request: Request, headers: Record<string, string>): string {
  const match = /^\/rest\/v1\/rpc\/([a-z_][a-z0-9_]*)$/.exec(new URL(request.url).pathname);
  if (request.method !== 'POST' || !match) {
    throw new HttpError(404, pgrstError('PGRST125', `stub: unexpected ${request.method} ${request.url}`));
  }
  if (!headers['content-type']?.startsWith('application/json')) {
    throw new HttpError(415, pgrstError('PGRST107', `stub: content-type ${headers['content-type']} is not JSON`));
  }
  if (headers['content-profile'] !== undefined && headers['content-profile'] !== 'public') {
    throw new HttpError(406, pgrstError('PGRST106', `stub: schema ${headers['content-profile']} is not exposed`));
  }
  return match[1]!;
}

/** The JWT claims the gateway would hand PostgREST (roles follow Supabase's keys). */
function authenticate(headers: Record<string, string>, keys: StubKeys): Record<string, unknown> {
  const apikey = headers.apikey;
  if (apikey !== keys.publishable && apikey !== keys.secret) {
    throw new HttpError(401, { message: 'Invalid API key', hint: 'Double check your Supabase `anon` or `service_role` API key.' });
  }
  const bearer = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
  if (bearer === undefined) throw new HttpError(401, pgrstError('PGRST301', 'No Authorization header'));
  if (bearer === keys.secret) return { role: 'service_role' };
  if (bearer === keys.publishable) return { role: 'anon' };
  const payload = bearer.split('.')[1];
  try {
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof claims.role !== 'string') throw new Error('no role claim');
    return claims;
  } catch {
    throw new HttpError(401, pgrstError('PGRST301', 'JWSError JWSInvalidSignature'));
  }
}

async function callFunction(pool: pg.Pool, fn: string, body: unknown, claims: Record<string, unknown>): Promise<unknown> {
  const client = await pool.connect();
  try {
    const info = await describeFunction(client, fn);
    const args = Object.keys(body as object);
    if (args.some((name) => !info.args.has(name))) throw new HttpError(404, notFound(fn, args));
    await client.query(info.readOnly ? 'BEGIN READ ONLY' : 'BEGIN');
    try {
      await client.query(`SET LOCAL ROLE ${pg.escapeIdentifier(String(claims.role))}`);
      await client.query("SELECT set_config('request.jwt.claims', $1, true)", [JSON.stringify(claims)]);
      const values = args.length === 0 ? [] : [JSON.stringify(body)];
      const result = await client.query<{ result: unknown }>(callSql(fn, args, info), values);
      await client.query('COMMIT');
      return result.rows[0]?.result ?? null;
    } catch (err) {
      await client.query('ROLLBACK');
      throw asHttpError(err, claims.role === 'anon');
    }
  } finally {
    client.release();
  }
}

async function describeFunction(client: pg.PoolClient, fn: string): Promise<FunctionInfo> {
  const found = await client.query<{ names: string[] | null; types: string[]; volatility: string }>(
    `SELECT p.proargnames AS names, p.proargtypes::regtype[]::text[] AS types, p.provolatile AS volatility
     FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'public' AND p.proname = $1`,
    [fn],
  );
  const row = found.rows[0];
  if (!row) throw new HttpError(404, notFound(fn, []));
  const names = row.names ?? [];
  return { args: new Map(names.map((name, i) => [name, row.types[i]!])), readOnly: row.volatility !== 'v' };
}

function callSql(fn: string, args: string[], info: FunctionInfo): string {
  const ident = pg.escapeIdentifier;
  const call = args.map((name) => `${ident(name)} => x.${ident(name)}`).join(', ');
  const columns = args.map((name) => `${ident(name)} ${info.args.get(name)}`).join(', ');
  const source = args.length === 0 ? '' : ` FROM json_to_record($1::json) AS x(${columns})`;
  return `SELECT to_jsonb(public.${ident(fn)}(${call})) AS result${source}`;
}

function pgrstError(code: string, message: string): Record<string, unknown> {
  return { code, message, details: null, hint: null };
}

function notFound(fn: string, args: string[]): Record<string, unknown> {
  return {
    code: 'PGRST202',
    details: `Searched for the function public.${fn} with parameters ${args.join(', ')} or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.`,
    hint: null,
    message: `Could not find the function public.${fn}(${args.join(', ')}) in the schema cache`,
  };
}

/** PostgREST's HTTP status for a SQLSTATE (docs: "Errors" / "SQLSTATE to HTTP"). */
function statusFor(code: string, anonymous: boolean): number {
  if (code === '42501') return anonymous ? 401 : 403;
  const exact: Record<string, number> = { '23503': 409, '23505': 409, '25006': 405, '42883': 404, '42P01': 404, P0001: 400 };
  if (exact[code]) return exact[code];
  const byClass: Record<string, number> = { '08': 503, '53': 503, '28': 403, '0L': 403, '0P': 403, '42': 400, '22': 400, '23': 400 };
  return byClass[code.slice(0, 2)] ?? 500;
}

function asHttpError(err: unknown, anonymous: boolean): HttpError {
  if (err instanceof HttpError) return err;
  const e = err as { code?: string; message?: string; detail?: string; hint?: string };
  const code = e.code ?? 'XX000';
  return new HttpError(statusFor(code, anonymous), {
    code,
    message: e.message ?? String(err),
    details: e.detail ?? null,
    hint: e.hint ?? null,
  });
}
