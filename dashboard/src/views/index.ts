/**
 * The view registry: the shell's nav lists these, in this order.
 *
 * Plug-in contract. A view is `{ id, title, component, visible? }`; its
 * component gets ViewProps (views/types.ts):
 * - `api`: the scope's client (api.ts): `api.get<T>(path)`, `api.json(method, path, body, headers)`,
 *   `api.request(method, path, init)` for raw bodies; paths are relative to the scope
 *   (`'v1/conflicts'`), failures throw ApiError {status, code, message} (show `message`).
 * - `caller`: `{ actor, owner, grant? }` from GET /v1/whoami; lib/grant.ts says what it may do.
 * - `rest`: what follows `#/<id>/` in the address, decoded (e.g. a file path).
 * - `navigate(view, rest?)`: go to another view (`navigate('files', '/notes/a.md')`).
 * - `onEvent(listener, { replay? })`: the live event stream, parsed; returns unsubscribe. Call it in a useEffect;
 *   `replay` first hands it the latest events the page heard before the view opened.
 * A view owns its own file(s) under views/; to add one, append one line here.
 *
 * Syntax highlighting in the file viewer: `setHighlighter((text, path) => lines)` (lib/highlighter.ts),
 * one node list per line, or undefined for a language it does not know (shown plain).
 */
import { setHighlighter } from '../lib/highlighter.js';
import { highlightToNodes } from './highlighting.js';
import type { ViewDefinition } from './types.js';
import { FilesView } from './files.js';
import { ActivityView } from './activity.js';
import { AuditView } from './audit.js';
import { ConflictsView } from './conflicts.js';
import { HealthView } from './health.js';
import { HistoryView } from './history.js';

export const views: ViewDefinition[] = [
  { id: 'files', title: 'Files', component: FilesView },
  { id: 'conflicts', title: 'Conflicts', component: ConflictsView },
  { id: 'history', title: 'History', component: HistoryView },
  { id: 'activity', title: 'Activity', component: ActivityView },
  { id: 'audit', title: 'Audit', component: AuditView, visible: (caller) => caller.owner },
  { id: 'health', title: 'Health', component: HealthView },
];

setHighlighter(highlightToNodes);
