/**
 * Checking what a caller asks to subscribe (EINVAL saying what to pass
 * instead), and which changes a subscription hears, as pure functions.
 */
import picomatch from 'picomatch';
import { fsErrors } from '../errors.js';
import type { FsEvent } from '../types.js';
import { WEBHOOK_EVENTS, type Webhook, type WebhookInput } from './types.js';

const MIN_SECRET = 16;
const MAX_URL = 2048;

export interface CheckedInput {
  url: URL;
  events: string[];
  pathGlob?: string;
  secret?: string;
}

export function checkWebhookInput(input: unknown): CheckedInput {
  if (typeof input !== 'object' || input === null) throw fsErrors.invalid('a webhook needs { "url": "https://…", "events": ["file_updated"], "pathGlob"?: "/docs/**", "secret"?: "…" }');
  const given = input as Record<string, unknown>;
  const checked: CheckedInput = { url: checkUrl(given.url), events: checkEvents(given.events) };
  if (given.pathGlob !== undefined) checked.pathGlob = checkGlob(given.pathGlob);
  if (given.secret !== undefined) {
    if (typeof given.secret !== 'string' || given.secret.length < MIN_SECRET) {
      throw fsErrors.invalid(`a webhook secret must be a string of at least ${MIN_SECRET} characters (or leave it out and scopefs makes one)`);
    }
    checked.secret = given.secret;
  }
  return checked;
}

export function checkUrl(url: unknown): URL {
  if (typeof url !== 'string' || url === '') throw fsErrors.invalid('a webhook needs a "url", e.g. "https://hooks.example.com/scopefs"');
  if (url.length > MAX_URL) throw fsErrors.invalid(`a webhook URL is at most ${MAX_URL} characters`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw fsErrors.invalid(`${JSON.stringify(url.slice(0, 100))} is not a URL; give an absolute http(s) URL, e.g. "https://hooks.example.com/scopefs"`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw fsErrors.invalid(`a webhook URL must be http: or https:, not ${parsed.protocol}`);
  if (parsed.username || parsed.password) throw fsErrors.invalid('a webhook URL must not carry credentials (user:pass@); receivers verify the signature instead');
  return parsed;
}

export function checkEvents(events: unknown): string[] {
  if (events === undefined) return ['*'];
  const known = new Set<string>(['*', ...WEBHOOK_EVENTS]);
  if (!Array.isArray(events) || events.length === 0 || !events.every((e) => typeof e === 'string' && known.has(e))) {
    throw fsErrors.invalid(`webhook events must be a non-empty list of ${[...known].join(', ')}`);
  }
  return [...new Set(events as string[])];
}

export function checkGlob(glob: unknown): string {
  if (typeof glob !== 'string' || glob.trim() === '' || glob.length > 1000) {
    throw fsErrors.invalid('pathGlob must be a glob of scope paths, e.g. "/docs/**" or "**/*.md"');
  }
  try {
    picomatch.makeRe(glob.replace(/^\//, ''));
  } catch {
    throw fsErrors.invalid(`pathGlob ${JSON.stringify(glob)} does not compile; e.g. "/docs/**" or "**/*.md"`);
  }
  return glob;
}

type ChangeEvent = Extract<FsEvent, { type: WebhookEventType }>;
type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** A change this instance made (sync brings changes whose own instance delivers them), or undefined. */
export function deliverable(event: FsEvent): ChangeEvent | undefined {
  if (event.type !== 'file_updated' && event.type !== 'file_deleted' && event.type !== 'file_moved') return undefined;
  return event.origin === 'sync' || event.origin === 'replay' ? undefined : event;
}

const matchers = new Map<string, (path: string) => boolean>();

/** Whether `webhook` hears `event`. */
export function subscribed(webhook: Pick<Webhook, 'events' | 'pathGlob'>, event: ChangeEvent): boolean {
  if (!webhook.events.includes('*') && !webhook.events.includes(event.type)) return false;
  if (webhook.pathGlob === undefined) return true;
  let match = matchers.get(webhook.pathGlob);
  if (!match) {
    const test = picomatch(webhook.pathGlob.replace(/^\//, ''), { dot: true });
    matchers.set(webhook.pathGlob, (match = (path) => test(path.slice(1))));
  }
  return event.type === 'file_moved' ? match(event.from) || match(event.to) : match(event.path);
}

/** The JSON a receiver gets: what changed, never the content. */
export function bodyOf(event: ChangeEvent, id: string, scope: string, at: number): string {
  const base = { id, type: event.type, scope, at: new Date(at).toISOString(), origin: event.origin, ...(event.actor === undefined ? {} : { actor: event.actor }) };
  switch (event.type) {
    case 'file_updated':
      return JSON.stringify({ ...base, path: event.path, created: event.created, revision: event.meta.revision, size: event.meta.size, checksum: event.meta.checksum ?? null });
    case 'file_deleted':
      return JSON.stringify({ ...base, path: event.path, revision: event.revision });
    case 'file_moved':
      return JSON.stringify({ ...base, from: event.from, to: event.to, revision: event.meta.revision, size: event.meta.size, checksum: event.meta.checksum ?? null });
  }
}
