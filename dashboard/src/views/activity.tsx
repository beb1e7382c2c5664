/** Activity: the live event stream as it arrives, filterable by path and origin. */
import { useEffect, useState } from 'preact/hooks';
import type { ParsedEvent, ViewProps } from './types.js';

const KEEP = 500;
const ORIGINS = ['local', 'disk', 'sync', 'replay'];

export function eventPaths(event: ParsedEvent): string[] {
  const { data } = event;
  const conflict = data['conflict'] as { path?: unknown } | undefined;
  const paths = [data['path'], data['from'], data['to'], conflict?.path, ...(Array.isArray(data['paths']) ? data['paths'] : [])];
  return paths.filter((path): path is string => typeof path === 'string');
}

/** Origin `local` is an API or MCP call: its actor (an agent's token, the owner) says whose. */
export function matchesFilter(event: ParsedEvent, path: string, origin: string, actor = ''): boolean {
  if (origin && event.data['origin'] !== origin) return false;
  if (actor && !String(event.data['actor'] ?? '').includes(actor)) return false;
  if (!path) return true;
  return eventPaths(event).some((candidate) => candidate.includes(path));
}

export function ActivityView({ onEvent, navigate }: ViewProps) {
  const [events, setEvents] = useState<ParsedEvent[]>([]);
  const [path, setPath] = useState('');
  const [origin, setOrigin] = useState('');
  const [actor, setActor] = useState('');
  // With the events the page heard before this view opened: one that arrives as it opens is not lost.
  useEffect(() => onEvent((event) => {
    if (event.type === 'ready') return;
    setEvents((list) => [event, ...list].slice(0, KEEP));
  }, { replay: true }), [onEvent]);
  const shown = events.filter((event) => matchesFilter(event, path, origin, actor));
  return (
    <section>
      <h2>Activity</h2>
      <div class="filters">
        <input aria-label="Filter by path" placeholder="Path contains" value={path} onInput={(event) => setPath(event.currentTarget.value)} />
        <select aria-label="Filter by origin" value={origin} onChange={(event) => setOrigin(event.currentTarget.value)}>
          <option value="">Any origin</option>
          {ORIGINS.map((name) => <option key={name} value={name}>{name}</option>)}
        </select>
        <input aria-label="Filter by actor" placeholder="Actor contains" value={actor} onInput={(event) => setActor(event.currentTarget.value)} />
        <button onClick={() => setEvents([])}>Clear</button>
        <span class="hint">Live since this page opened; the last {KEEP} events are kept.</span>
      </div>
      {shown.length === 0 ? <p class="hint">No events yet: changes to the scope appear here as they happen.</p> : (
        <table class="grid" aria-label="Events">
          <thead><tr><th>Time</th><th>Event</th><th>Origin</th><th>Actor</th><th>Paths</th></tr></thead>
          <tbody>
            {shown.map((event, index) => (
              <tr key={event.id ?? index} class="event">
                <td>{new Date(event.receivedAt).toLocaleTimeString()}</td>
                <td>{event.type}</td>
                <td>{typeof event.data['origin'] === 'string' ? <span class="origin">{event.data['origin']}</span> : null}</td>
                <td>{typeof event.data['actor'] === 'string' ? event.data['actor'] : ''}</td>
                <td class="mono">
                  {eventPaths(event).map((file) => (
                    <div key={file}><a href={`#/files${file.split('/').map(encodeURIComponent).join('/')}`} onClick={(e) => { e.preventDefault(); navigate('files', file); }}>{file}</a></div>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
