import type { IncomingMessage } from 'node:http';
import { isLoopbackHost } from './auth.js';
import { HttpError } from './responses.js';

/**
 * Cross-site request refusal. A page on any origin can make a browser send
 * a "simple" request (POST with `text/plain` or a form body, no preflight) to
 * a loopback server; with `--no-auth` that request would act. So in every
 * auth mode a state-changing request that a browser marks as coming from
 * another site is refused, whatever its credentials. Clients that are not
 * browsers (the CLI, MCP clients, curl) send neither header and pass.
 */
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `Sec-Fetch-Site` values of requests made by the server's own pages or by the user directly. */
const OWN_FETCH_SITES = new Set(['same-origin', 'none']);

export interface OriginFacts {
  method: string;
  /** The `Origin` header, when present. */
  origin?: string;
  /** The `Sec-Fetch-Site` header, when present. */
  fetchSite?: string;
  /** The `Host` header: the authority the client addressed, i.e. this server's origin as the client sees it. */
  host?: string;
}

/** Why the request must be refused, or undefined when it may proceed. Pure: decides from the headers alone. */
export function crossSiteRefusal(facts: OriginFacts): string | undefined {
  if (!STATE_CHANGING.has(facts.method.toUpperCase())) return undefined;
  const site = facts.fetchSite?.trim().toLowerCase();
  if (site !== undefined && site !== '' && !OWN_FETCH_SITES.has(site)) {
    return `the browser marked this request Sec-Fetch-Site: ${site} (sent by a page of another origin)`;
  }
  if (facts.origin === undefined) return undefined;
  if (isOwnOrigin(facts.origin, facts.host)) return undefined;
  return `its Origin ${JSON.stringify(facts.origin)} is not this server's (${facts.host ?? 'no Host header'})`;
}

/** Throws 403 EORIGIN for a state-changing request from another site. */
export function checkSameOrigin(req: IncomingMessage): void {
  const refusal = crossSiteRefusal({
    method: req.method ?? 'GET',
    origin: single(req.headers.origin),
    fetchSite: single(req.headers['sec-fetch-site']),
    host: req.headers.host,
  });
  if (refusal === undefined) return;
  throw new HttpError(
    403,
    'EORIGIN',
    `cross-site request refused: ${refusal}. Changes are accepted only from this server's own origin ` +
      'or from clients that are not browsers (which send no Origin header)',
  );
}

/**
 * Same origin: the Origin's host and port are the ones the request was sent
 * to (the Host header), or both are loopback names (127.0.0.1, localhost,
 * [::1]) with the same port. `null` and anything unparsable are foreign.
 */
function isOwnOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  const addressed = splitAuthority(host.toLowerCase(), parsed.protocol);
  const from = { name: parsed.hostname.toLowerCase(), port: parsed.port || defaultPort(parsed.protocol) };
  if (addressed === undefined || from.port !== addressed.port) return false;
  return from.name === addressed.name || (isLoopbackHost(from.name) && isLoopbackHost(addressed.name));
}

function splitAuthority(authority: string, protocol: string): { name: string; port: string } | undefined {
  const match = /^(\[[^\]]*\]|[^:[\]]+)(?::(\d+))?$/.exec(authority);
  if (!match) return undefined;
  return { name: match[1]!, port: match[2] ?? defaultPort(protocol) };
}

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80';
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
