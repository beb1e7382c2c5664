import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** The URL's path, still percent-encoded: routes decode what they take from it exactly once. */
  rawPath: string;
  query: URLSearchParams;
  /** For a prefix route, the raw path after the route's path, starting with "/". */
  rest: string;
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;

export interface Route {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  /** Exact path, or with `prefix` every path below it (`/v1/files` matches `/v1/files/a/b`). */
  path: string;
  prefix?: boolean;
  handler: Handler;
}

export type RouteMatch = { route: Route; rest: string } | { allowed: string[] } | undefined;

/** The route for a method and raw path; `allowed` when the path exists under other methods only. */
export function matchRoute(routes: readonly Route[], method: string, rawPath: string): RouteMatch {
  const candidates = routes.filter((route) =>
    route.prefix ? rawPath.startsWith(`${route.path}/`) : rawPath === route.path,
  );
  const route = candidates.find((candidate) => candidate.method === method);
  if (route) return { route, rest: route.prefix ? rawPath.slice(route.path.length) : '' };
  if (candidates.length > 0) return { allowed: [...new Set(candidates.map((c) => c.method))] };
  return undefined;
}

/** Splits a request target into its raw path and query without normalising `..` or decoding anything. */
export function splitTarget(target: string | undefined): { rawPath: string; query: URLSearchParams } {
  const url = target ?? '/';
  const at = url.indexOf('?');
  if (at < 0) return { rawPath: url, query: new URLSearchParams() };
  return { rawPath: url.slice(0, at), query: new URLSearchParams(url.slice(at + 1)) };
}
