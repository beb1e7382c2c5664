/**
 * Transactions seen through a facade of the filesystem: every transaction
 * they hand out (begin, get, run) works on `wrap(its fs)`. How an interface's
 * facades (a token's grant, the audit log's refusals) reach inside a
 * transaction as they reach the scope's fs.
 */
import type { FileSystem } from '../types.js';
import type { Transaction, Transactions } from './transactions.js';

export function transactionsViewedThrough(transactions: Transactions, wrap: (fs: FileSystem) => FileSystem): Transactions {
  const views = new WeakMap<Transaction, Transaction>();
  const view = (transaction: Transaction): Transaction => {
    let seen = views.get(transaction);
    if (!seen) {
      const fs = wrap(transaction.fs);
      seen = new Proxy(transaction, {
        get: (target, property) => (property === 'fs' ? fs : bound(target, property)),
      });
      views.set(transaction, seen);
    }
    return seen;
  };
  const overrides: Partial<Transactions> = {
    begin: async (options) => view(await transactions.begin(options)),
    get: (id) => {
      const transaction = transactions.get(id);
      return transaction && view(transaction);
    },
    run: (fn, options) => transactions.run((fs) => fn(wrap(fs)), options),
  };
  return new Proxy(transactions, {
    get: (target, property) => overrides[property as keyof Transactions] ?? bound(target, property),
  });
}

function bound(target: object, property: string | symbol): unknown {
  const value = Reflect.get(target, property, target) as unknown;
  return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
}
