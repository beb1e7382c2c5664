/**
 * Webhooks over HTTP (docs/webhooks.md), for the owner only:
 *
 * - `GET /v1/webhooks` → `{ webhooks: [{ id, url, events, pathGlob?, secretHint, createdAt }], status }` (never a secret).
 * - `POST /v1/webhooks` `{ url, events?, pathGlob?, secret? }` → 201 with the subscription (and the secret once, when scopefs made it).
 * - `DELETE /v1/webhooks/<id>` → `{ removed }`.
 * - `POST /v1/webhooks/deliveries/<id>/redeliver` → 202 `{ redelivered: id }`: a dead letter (or any delivery) is sent again with its idempotency key.
 *
 * A request's socket tells which address this server listens on: webhooks pointing at it are refused (url-safety.ts).
 */
import type { IncomingMessage } from 'node:http';
import { fsErrors } from '../../errors.js';
import type { ScopeHandle } from '../../types.js';
import type { ScopeWebhooks } from '../../webhooks/scope-webhooks.js';
import type { WebhookInput } from '../../webhooks/types.js';
import { noteOwnAddress } from '../../webhooks/url-safety.js';
import { readJsonObject } from '../body.js';
import { HttpError, sendJson } from '../responses.js';
import type { Route } from '../router.js';

const WEBHOOKS = '/v1/webhooks';
const REDELIVER = /^\/deliveries\/([^/]+)\/redeliver$/;

export function webhookRoutes(deps: { scope: ScopeHandle; maxJsonBytes: number }): Route[] {
  const of = (req: IncomingMessage): ScopeWebhooks => {
    noteOwnAddress(req.socket.localAddress, req.socket.localPort);
    if (!deps.scope.webhooks) throw new HttpError(403, 'EACCES', 'webhooks are the owner\'s: use the owner token (or the scope has webhooks off)');
    return deps.scope.webhooks;
  };
  return [
    { method: 'GET', path: WEBHOOKS, handler: async ({ req, res }) => {
      const webhooks = of(req);
      sendJson(res, 200, { webhooks: await webhooks.list(), status: webhooks.status() });
    } },
    { method: 'POST', path: WEBHOOKS, handler: async ({ req, res }) => {
      const webhooks = of(req);
      const body = await readJsonObject(req, deps.maxJsonBytes);
      sendJson(res, 201, await webhooks.add(body as unknown as WebhookInput));
    } },
    { method: 'DELETE', path: WEBHOOKS, prefix: true, handler: async ({ req, res, rest }) => {
      sendJson(res, 200, { removed: await of(req).remove(decodeURIComponent(rest.slice(1))) });
    } },
    { method: 'POST', path: WEBHOOKS, prefix: true, handler: ({ req, res, rest }) => {
      const match = REDELIVER.exec(rest);
      if (!match) throw fsErrors.invalid(`POST ${WEBHOOKS}${rest}: use POST ${WEBHOOKS}/deliveries/<id>/redeliver`);
      const id = decodeURIComponent(match[1]!);
      of(req).redeliver(id);
      sendJson(res, 202, { redelivered: id });
    } },
  ];
}
