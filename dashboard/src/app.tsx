/**
 * The shell: sign-in, the scope picker of a multi-scope server, the nav and
 * the hash route, and one live event stream per open scope shared by the views.
 */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { Api, ApiError, apiRootOfPage, tokenStore } from './api.js';
import { EventHub } from './lib/event-hub.js';
import { formatHash, parseHash } from './route.js';
import { views } from './views/index.js';
import { parseEvent, type Caller, type ParsedEvent, type ViewProps } from './views/types.js';

type Session =
  | { kind: 'signin'; error?: string }
  | { kind: 'checking' }
  | { kind: 'picker'; api: Api; scopes: string[] }
  | { kind: 'scope'; api: Api; caller: Caller; scopeKey?: string; server: Api };

const SCOPE_KEY = 'scopefs.scope';

/** Who the token is at `api`: a scope's caller, or the list of scopes of a multi-scope server. */
async function open(server: Api, scopeKey?: string): Promise<Session> {
  if (scopeKey !== undefined) {
    const api = server.forScope(server.root, scopeKey);
    return { kind: 'scope', api, caller: await api.get<Caller>('v1/whoami'), scopeKey, server };
  }
  try {
    return { kind: 'scope', api: server, caller: await server.get<Caller>('v1/whoami'), server };
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) throw err;
    const { scopes } = await server.get<{ scopes: { key: string }[] }>('v1/scopes');
    return { kind: 'picker', api: server, scopes: scopes.map((scope) => scope.key) };
  }
}

function refusal(err: unknown): string {
  if (err instanceof ApiError && err.status === 401) return 'That token was refused: check it and try again (the owner token is in <root>/.scopefs/token).';
  return err instanceof Error ? err.message : String(err);
}

export function App() {
  const [session, setSession] = useState<Session>(() => (tokenStore.load() ? { kind: 'checking' } : { kind: 'signin' }));

  const start = async (token: string, scopeKey?: string) => {
    setSession({ kind: 'checking' });
    try {
      const next = await open(new Api(apiRootOfPage(location), token), scopeKey);
      tokenStore.save(token);
      if (next.kind === 'scope' && next.scopeKey !== undefined) sessionStorage.setItem(SCOPE_KEY, next.scopeKey);
      setSession(next);
    } catch (err) {
      if (scopeKey !== undefined) sessionStorage.removeItem(SCOPE_KEY);
      tokenStore.clear();
      setSession({ kind: 'signin', error: refusal(err) });
    }
  };

  useEffect(() => {
    const token = tokenStore.load();
    if (token) void start(token, sessionStorage.getItem(SCOPE_KEY) ?? undefined);
  }, []);

  const signOut = () => {
    tokenStore.clear();
    sessionStorage.removeItem(SCOPE_KEY);
    setSession({ kind: 'signin' });
  };

  if (session.kind === 'checking') return <p class="loading">Signing in…</p>;
  if (session.kind === 'signin') return <SignIn error={session.error} onSubmit={(token) => void start(token)} />;
  if (session.kind === 'picker') {
    return <ScopePicker scopes={session.scopes} onPick={(key) => void start(tokenStore.load() ?? '', key)} onSignOut={signOut} />;
  }
  return (
    <Shell
      key={session.api.root}
      session={session}
      onSignOut={signOut}
      onSwitchScope={session.scopeKey === undefined ? undefined : () => {
        sessionStorage.removeItem(SCOPE_KEY);
        void start(tokenStore.load() ?? '');
      }}
    />
  );
}

function SignIn({ error, onSubmit }: { error?: string; onSubmit: (token: string) => void }) {
  const [token, setToken] = useState('');
  return (
    <main class="signin">
      <h1>scopefs</h1>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (token.trim()) onSubmit(token.trim());
        }}
      >
        <label for="token">Token</label>
        <input id="token" type="password" autocomplete="off" autofocus value={token} onInput={(event) => setToken(event.currentTarget.value)} />
        <button type="submit" class="primary">Sign in</button>
        <p class="hint">The owner token, or a named token (scopefs token create). It is kept in this tab only.</p>
        {error && <p class="error" role="alert">{error}</p>}
      </form>
    </main>
  );
}

function ScopePicker({ scopes, onPick, onSignOut }: { scopes: string[]; onPick: (key: string) => void; onSignOut: () => void }) {
  const [filter, setFilter] = useState('');
  const shown = scopes.filter((key) => key.includes(filter));
  return (
    <main class="picker">
      <header class="bar">
        <strong>scopefs</strong>
        <button onClick={onSignOut}>Sign out</button>
      </header>
      <h1>Choose a scope</h1>
      <input aria-label="Filter scopes" placeholder="Filter" value={filter} onInput={(event) => setFilter(event.currentTarget.value)} />
      {shown.length === 0 ? <p>No scope {scopes.length > 0 ? 'matches' : 'yet: a scope exists once something is written to it'}.</p> : null}
      <ul class="scopes">
        {shown.map((key) => (
          <li key={key}>
            <button class="link" onClick={() => onPick(key)}>{key}</button>
          </li>
        ))}
      </ul>
    </main>
  );
}

/** One stream per scope; views subscribe and unsubscribe without reopening it (lib/event-hub.ts). */
function useEventHub(api: Api): { subscribe: ViewProps['onEvent']; live: boolean; refused: boolean } {
  const hub = useMemo(() => new EventHub<ParsedEvent>(), [api]);
  const [live, setLive] = useState(false);
  const [refused, setRefused] = useState(false);
  useEffect(() => {
    const abort = new AbortController();
    void api.events((event) => hub.publish(parseEvent(event)), abort.signal, setLive, () => setRefused(true));
    return () => abort.abort();
  }, [api]);
  // Stable, so a view's useEffect([onEvent]) subscribes once, not on every render of the shell.
  const subscribe = useCallback<ViewProps['onEvent']>((listener, options) => hub.subscribe(listener, options), [hub]);
  return { subscribe, live, refused };
}

function useHashRoute(fallback: string) {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    addEventListener('hashchange', changed);
    // Effects run after the first paint: a hash changed in between fired no event this listener heard.
    changed();
    return () => removeEventListener('hashchange', changed);
  }, []);
  return parseHash(hash, fallback);
}

function Shell({ session, onSignOut, onSwitchScope }: { session: Extract<Session, { kind: 'scope' }>; onSignOut: () => void; onSwitchScope?: () => void }) {
  const { api, caller } = session;
  const shown = views.filter((view) => view.visible?.(caller) ?? true);
  const route = useHashRoute(shown[0]?.id ?? 'files');
  const hub = useEventHub(api);
  const view = shown.find((candidate) => candidate.id === route.view);
  const navigate = (id: string, rest?: string) => {
    location.hash = formatHash(id, rest);
  };
  const View = view?.component;
  return (
    <div class="shell">
      <header class="bar">
        <strong>scopefs</strong>
        {session.scopeKey !== undefined && <span class="scope-name" title="Scope">{session.scopeKey}</span>}
        <nav aria-label="Views">
          {shown.map((candidate) => (
            <a key={candidate.id} href={formatHash(candidate.id)} aria-current={candidate.id === view?.id ? 'page' : undefined}>
              {candidate.title}
            </a>
          ))}
        </nav>
        {hub.refused && <span class="live off" role="alert">The token is no longer accepted (revoked or expired): sign out and in again.</span>}
        <span class={`live ${hub.live ? 'on' : 'off'}`} title={hub.live ? 'Live: changes appear as they happen' : 'Reconnecting to the event stream'}>
          {hub.live ? 'live' : 'offline'}
        </span>
        <span class="actor" title="Signed in as">{caller.actor}{caller.owner ? '' : ' (limited)'}</span>
        {onSwitchScope && <button onClick={onSwitchScope}>Scopes</button>}
        <button onClick={onSignOut}>Sign out</button>
      </header>
      <main class="view" id="view">
        {View ? <View api={api} caller={caller} rest={route.rest} navigate={navigate} onEvent={hub.subscribe} /> : <p class="error">No view named {route.view}.</p>}
      </main>
    </div>
  );
}
