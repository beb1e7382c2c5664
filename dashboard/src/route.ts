/** Hash routes, `#/<view>/<rest>`: pure, so tests and the shell agree on them. */
export interface Route {
  view: string;
  rest: string;
}

export function parseHash(hash: string, fallback: string): Route {
  const body = hash.replace(/^#\/?/, '');
  if (body === '') return { view: fallback, rest: '' };
  const slash = body.indexOf('/');
  const view = slash < 0 ? body : body.slice(0, slash);
  const raw = slash < 0 ? '' : body.slice(slash + 1);
  let rest = raw;
  try {
    rest = decodeURIComponent(raw);
  } catch {
    // a hand-typed address with a stray '%': use it as written
  }
  return { view: view || fallback, rest };
}

export function formatHash(view: string, rest = ''): string {
  const path = rest.replace(/^\/+/, '');
  return `#/${view}${path ? `/${path.split('/').map(encodeURIComponent).join('/')}` : ''}`;
}

/** A stable ref callback: focuses an element shown on demand (autofocus only works on page load). */
export const focusOnMount = (element: HTMLElement | null): void => element?.focus();
