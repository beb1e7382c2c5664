/**
 * The lease part of the SyncStore contract (store-contract.ts runs it for
 * every store): named leases with fencing tokens, expiry by the store's clock.
 * Expiry is waited for by polling, never by a fixed sleep.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { LeaseState, StoreLeases } from '../../persistence/stores/types.js';
import { expectEinval } from './store-contract-helpers.js';

const freshLease = () => `lease-${randomUUID()}`;
const EXPIRY_DEADLINE_MS = 10_000;

/** Resolves once `probe` answers true. */
async function until(probe: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + EXPIRY_DEADLINE_MS;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${EXPIRY_DEADLINE_MS} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function describeLeaseContract(store: () => StoreLeases): void {
  describe('leases', () => {
    it('grants a free lease with token 1 and refuses another holder while it is valid', async () => {
      const name = freshLease();
      const before = Date.now();
      const granted = await store().acquireLease(name, 'alice', 60_000);
      expect(granted).toMatchObject({ acquired: true, name, holder: 'alice', token: 1 });
      // Generous bounds: a database server's clock may differ slightly from ours.
      expect(granted.expiresAt).toBeGreaterThan(before + 50_000);
      const refused = await store().acquireLease(name, 'bob', 60_000);
      expect(refused).toEqual({ ...granted, acquired: false });
    });

    it('lets the holder re-acquire to extend, keeping its token', async () => {
      const name = freshLease();
      const first = await store().acquireLease(name, 'alice', 1_000);
      const again = await store().acquireLease(name, 'alice', 60_000);
      expect(again).toMatchObject({ acquired: true, holder: 'alice', token: first.token });
      expect(again.expiresAt!).toBeGreaterThan(first.expiresAt!);
    });

    it('hands an expired lease to a new holder with a higher token; the old token can no longer renew or release', async () => {
      const name = freshLease();
      const alice = await store().acquireLease(name, 'alice', 300);
      let bob: LeaseState | undefined;
      await until(async () => (bob = await store().acquireLease(name, 'bob', 60_000)).acquired, "alice's lease to expire");
      expect(bob).toMatchObject({ acquired: true, holder: 'bob' });
      expect(bob!.token).toBeGreaterThan(alice.token);

      expect(await store().renewLease(name, 'alice', alice.token, 60_000)).toMatchObject({ acquired: false, holder: 'bob', token: bob!.token });
      expect(await store().releaseLease(name, 'alice', alice.token)).toBe(false);
      expect((await store().acquireLease(name, 'carol', 60_000)).acquired).toBe(false);
    });

    it('renews with the current token, and fails to renew once expired; re-taking gives a new token', async () => {
      const name = freshLease();
      const lease = await store().acquireLease(name, 'alice', 60_000);
      const renewed = await store().renewLease(name, 'alice', lease.token, 120_000);
      expect(renewed).toMatchObject({ acquired: true, token: lease.token });
      expect(renewed.expiresAt!).toBeGreaterThan(lease.expiresAt!);

      const short = await store().acquireLease(freshLease(), 'alice', 200);
      // No call can ask "expired yet?" without changing the lease, so wait for the clock (the store's is this machine's here).
      await until(async () => Date.now() > short.expiresAt! + 100, 'the lease to expire');
      expect(await store().renewLease(short.name, 'alice', short.token, 60_000)).toMatchObject({ acquired: false, token: short.token });
      // Nobody took it over, yet the expired holder must acquire anew, and gets a new token.
      const retaken = await store().acquireLease(short.name, 'alice', 60_000);
      expect(retaken).toMatchObject({ acquired: true, holder: 'alice', token: short.token + 1 });
    });

    it('frees a released lease at once, and tokens never go back', async () => {
      const name = freshLease();
      const alice = await store().acquireLease(name, 'alice', 60_000);
      expect(await store().releaseLease(name, 'alice', alice.token)).toBe(true);
      expect(await store().releaseLease(name, 'alice', alice.token)).toBe(false);
      const bob = await store().acquireLease(name, 'bob', 60_000);
      expect(bob).toMatchObject({ acquired: true, holder: 'bob', token: alice.token + 1 });
    });

    it('reports a lease never taken as free, with token 0', async () => {
      const name = freshLease();
      expect(await store().renewLease(name, 'alice', 1, 1_000)).toEqual({ acquired: false, name, holder: null, token: 0, expiresAt: null });
      expect(await store().releaseLease(name, 'alice', 0)).toBe(false);
    });

    it('gives a contended lease to exactly one of many concurrent acquirers', async () => {
      const name = freshLease();
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store().acquireLease(name, `holder-${i}`, 60_000)));
      const winners = results.filter((lease) => lease.acquired);
      expect(winners).toHaveLength(1);
      expect(results.every((lease) => lease.holder === winners[0]!.holder && lease.token === 1)).toBe(true);
    });

    it('rejects bad arguments with EINVAL', async () => {
      await expectEinval(store().acquireLease('', 'a', 1000));
      await expectEinval(store().acquireLease('x', '', 1000));
      await expectEinval(store().acquireLease('x', 'a', 0));
      await expectEinval(store().acquireLease('x', 'a', 1.5));
      await expectEinval(store().renewLease('x', 'a', -1, 1000));
      await expectEinval(store().releaseLease('x', 'a', 0.5));
    });
  });
}
