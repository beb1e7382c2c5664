/**
 * `scopefs webhook add|list|remove|redeliver`: the webhooks of the running
 * serve for the root (docs/webhooks.md). The serve delivers them, so there
 * is no direct mode.
 */
import { Command } from 'commander';
import type { WebhookAdded, WebhookInfo, WebhookStatus } from '../../webhooks/types.js';
import { callServe as callServeAt, withServeOptions } from '../serve-call.js';
import { columns, Output } from '../output.js';

interface WebhookCliOptions {
  root: string;
  token?: string;
  json?: boolean;
  events?: string;
  glob?: string;
  secret?: string;
}

export function webhookCommand(): Command {
  const webhook = new Command('webhook').description('webhooks of the running serve: POST a signed JSON event to a URL on every change');
  webhook.addCommand(
    withServeOptions(new Command('add'))
      .description('subscribe a URL; prints its id (and the signing secret, once, unless --secret is given)')
      .argument('<url>', 'where to POST, e.g. https://hooks.example.com/scopefs')
      .option('--events <list>', 'comma-separated: file_updated,file_deleted,file_moved (default: all)')
      .option('--glob <pattern>', 'only paths matching this glob, e.g. "/docs/**"')
      .option('--secret <secret>', 'the HMAC-SHA256 key (at least 16 characters; default: scopefs makes one)')
      .action(async (url: string, options: WebhookCliOptions) => {
        const body = {
          url,
          ...(options.events ? { events: options.events.split(',').map((e) => e.trim()) } : {}),
          ...(options.glob ? { pathGlob: options.glob } : {}),
          ...(options.secret ? { secret: options.secret } : {}),
        };
        const added = await callServe<WebhookAdded>(options, 'POST', '/v1/webhooks', body);
        new Output(options.json === true).result(added, () => [
          added.id,
          ...(added.secret ? [`secret (shown once, keep it to verify signatures): ${added.secret}`] : []),
        ]);
      }),
  );
  webhook.addCommand(
    withServeOptions(new Command('list'))
      .description('list the subscriptions (secrets as hints only), pending and delivered counts, and the dead letters')
      .action(async (options: WebhookCliOptions) => {
        const answer = await callServe<{ webhooks: WebhookInfo[]; status: WebhookStatus }>(options, 'GET', '/v1/webhooks');
        new Output(options.json === true).result(answer, () => listing(answer.webhooks, answer.status));
      }),
  );
  webhook.addCommand(
    withServeOptions(new Command('remove'))
      .description('unsubscribe (its pending deliveries are dropped)')
      .argument('<id>', 'the id scopefs webhook add printed')
      .action(async (id: string, options: WebhookCliOptions) => {
        const answer = await callServe<{ removed: boolean }>(options, 'DELETE', `/v1/webhooks/${encodeURIComponent(id)}`);
        new Output(options.json === true).result(answer, () => (answer.removed ? 'removed' : `no webhook ${id}`));
      }),
  );
  webhook.addCommand(
    withServeOptions(new Command('redeliver'))
      .description('send a dead-lettered (or any) delivery again, with its idempotency key')
      .argument('<id>', 'a delivery id from scopefs webhook list')
      .action(async (id: string, options: WebhookCliOptions) => {
        const answer = await callServe<{ redelivered: string }>(options, 'POST', `/v1/webhooks/deliveries/${encodeURIComponent(id)}/redeliver`);
        new Output(options.json === true).result(answer, () => `queued ${answer.redelivered} for delivery`);
      }),
  );
  return webhook;
}

function listing(webhooks: WebhookInfo[], status: WebhookStatus): string[] {
  const lines = webhooks.length === 0 ? ['no webhooks'] : columns(webhooks.map((w) => [w.id, w.url, w.events.join(','), w.pathGlob ?? '', `secret ${w.secretHint}`]));
  lines.push(`${status.pending} pending, ${status.delivered} delivered, ${status.dead.length} dead`);
  for (const d of status.dead) lines.push(`dead ${d.id} ${d.type ?? ''} after ${d.attempts} attempt(s): ${d.lastError ?? ''} (scopefs webhook redeliver ${d.id})`);
  return lines;
}

function callServe<T>(options: WebhookCliOptions, method: string, path: string, body?: unknown): Promise<T> {
  return callServeAt<T>(options, method, path, body, 'webhooks are delivered by a running scope');
}
