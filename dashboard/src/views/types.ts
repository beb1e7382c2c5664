/**
 * What every view gets from the shell. A view is a component of ViewProps;
 * it talks to the server only through `api`, hears changes through
 * `onEvent`, and moves the user with `navigate` (hash routes: `#/<view>/<rest>`).
 */
import type { JSX } from 'preact';
import type { Api } from '../api.js';
import type { SseEvent } from '../sse.js';

export interface Caller {
  actor: string;
  owner: boolean;
  grant?: { read: string[]; write: string[]; delete: boolean; move: boolean };
}

export interface ViewProps {
  api: Api;
  caller: Caller;
  /** What follows `#/<view>/` in the address, decoded (a file path for Files and History). */
  rest: string;
  navigate: (view: string, rest?: string) => void;
  /**
   * Subscribes to the scope's live events; returns the unsubscribe function.
   * `replay`: first hear the latest events the page's stream brought before
   * (at most 500), oldest first.
   */
  onEvent: (listener: (event: ParsedEvent) => void, options?: { replay?: boolean }) => () => void;
}

/** An SSE event with its JSON data parsed. */
export interface ParsedEvent {
  id?: string;
  type: string;
  data: Record<string, unknown>;
  receivedAt: number;
}

export function parseEvent(event: SseEvent): ParsedEvent {
  let data: Record<string, unknown> = {};
  try {
    data = JSON.parse(event.data) as Record<string, unknown>;
  } catch {
    data = { raw: event.data };
  }
  return { ...(event.id !== undefined ? { id: event.id } : {}), type: event.type, data, receivedAt: Date.now() };
}

export interface ViewDefinition {
  id: string;
  title: string;
  /** Shown only when this says so (e.g. owner-only views). */
  visible?: (caller: Caller) => boolean;
  component: (props: ViewProps) => JSX.Element;
}
