/** Webhook subscriptions in memory: a scope without a root, or the memory store (per store object and app). */
import type { Webhook } from '../../src/webhooks/types.js';
import type { WebhookTable } from './types.js';

export class MemoryWebhookTable implements WebhookTable {
  private readonly rows = new Map<string, Webhook>();

  async list(): Promise<Webhook[]> {
    return [...this.rows.values()].map((w) => ({ ...w }));
  }

  async add(webhook: Webhook): Promise<void> {
    this.rows.set(webhook.id, { ...webhook });
  }

  async remove(id: string): Promise<boolean> {
    return this.rows.delete(id);
  }

  close(): void {}
}
