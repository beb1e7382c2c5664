/** Audit: the scope's audit log (GET /v1/audit, owner only), with its filters. */
import { useEffect, useState } from 'preact/hooks';
import type { ViewProps } from './types.js';

interface AuditEntry {
  id: string | number;
  at: string | number;
  actor: string;
  operation: string;
  paths: string[];
  revision?: string;
  result: 'ok' | 'refused';
  code?: string;
  message?: string;
  source?: string;
}

export function auditQuery(filters: { path: string; actor: string; since: string; limit: string }): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) if (value.trim()) query.set(key, value.trim());
  const text = query.toString();
  return text ? `v1/audit?${text}` : 'v1/audit';
}

export function AuditView({ api }: ViewProps) {
  const [filters, setFilters] = useState({ path: '', actor: '', since: '', limit: '100' });
  const [entries, setEntries] = useState<AuditEntry[]>();
  const [error, setError] = useState<string>();
  const load = async () => {
    try {
      setError(undefined);
      setEntries((await api.get<{ entries: AuditEntry[] }>(auditQuery(filters))).entries);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  useEffect(() => void load(), [api]);
  const field = (key: keyof typeof filters, label: string) => (
    <input aria-label={label} placeholder={label} value={filters[key]} onInput={(event) => setFilters({ ...filters, [key]: event.currentTarget.value })} />
  );
  return (
    <section>
      <h2>Audit log</h2>
      <form class="filters" onSubmit={(event) => { event.preventDefault(); void load(); }}>
        {field('path', 'Path')}
        {field('actor', 'Actor')}
        {field('since', 'Since (ISO date)')}
        {field('limit', 'Limit')}
        <button type="submit">Apply</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {entries && entries.length === 0 && <p class="hint">Nothing recorded matches.</p>}
      {entries && entries.length > 0 && (
        <table class="grid" aria-label="Audit entries">
          <thead><tr><th>At</th><th>Actor</th><th>Operation</th><th>Paths</th><th>Result</th></tr></thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.id}>
                <td>{new Date(entry.at).toLocaleString()}</td>
                <td>{entry.actor}</td>
                <td>{entry.operation}</td>
                <td class="mono">{entry.paths.join(', ')}</td>
                <td class={entry.result === 'ok' ? '' : 'error'}>{entry.result}{entry.code ? ` ${entry.code}` : ''}{entry.message ? `: ${entry.message}` : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
