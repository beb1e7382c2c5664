/**
 * Which URLs a webhook may target. Never this process's own HTTP server (a
 * delivery to itself could loop: a webhook handler writing a file that
 * fires the webhook); optionally only an operator's allow-list; loopback is
 * allowed unless the operator denies it (local receivers, tests).
 *
 * The server's own addresses are noted by the webhook routes from the
 * socket a request arrived on (so no server has to register itself), and
 * checked at `add` and again before every delivery.
 */
import { networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { ScopeFsError } from '../errors.js';

const own = new Set<string>();

/** Notes that this process listens on `address:port` (0.0.0.0 / :: mean every local interface). */
export function noteOwnAddress(address: string | undefined, port: number | undefined): void {
  if (address === undefined || port === undefined) return;
  own.add(`${normalHost(address)}:${port}`);
}

export interface UrlRules {
  allow?: string[];
  denyLoopback?: boolean;
}

/** EINVAL (code EACCES for policy) naming why `url` may not be a webhook target. */
export function assertDeliverableUrl(url: URL, rules: UrlRules): void {
  const host = normalHost(url.hostname);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  if (isOwn(host, port)) {
    throw new ScopeFsError('EINVAL', `${url.origin} is this scopefs server itself; a webhook must point at another service (a delivery to itself could loop)`);
  }
  if (rules.denyLoopback && isLoopback(host)) {
    throw new ScopeFsError('EACCES', `${url.origin} is a loopback address, which this server's operator does not allow for webhooks`);
  }
  if (rules.allow && rules.allow.length > 0 && !rules.allow.some((allowed) => allows(allowed, url))) {
    throw new ScopeFsError('EACCES', `${url.origin} is not on this server's webhook allow-list (${rules.allow.join(', ')}); ask its operator to add it`);
  }
}

function allows(allowed: string, url: URL): boolean {
  if (/^https?:\/\//.test(allowed)) return url.href.startsWith(allowed);
  return normalHost(url.hostname) === normalHost(allowed);
}

function isOwn(host: string, port: number): boolean {
  if (own.has(`${host}:${port}`)) return true;
  const wildcard = own.has(`0.0.0.0:${port}`) || own.has(`:::${port}`);
  const loopbackListener = [...own].some((a) => a.endsWith(`:${port}`) && isLoopback(a.slice(0, a.lastIndexOf(':'))));
  if (isLoopback(host)) return wildcard || loopbackListener;
  return wildcard && localAddresses().has(host);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || (isIP(host) === 4 && host.startsWith('127.')) || host.startsWith('::ffff:127.');
}

function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const info of list ?? []) out.add(normalHost(info.address));
  return out;
}

function normalHost(host: string): string {
  return host.replace(/^\[|\]$/g, '').toLowerCase();
}
