import { afterAll, beforeAll, expect, it } from 'vitest';
import { isScopeFsError } from '../../src/errors.js';
import { PostgresStore } from '../../persistence/stores/postgres-store.js';
import { adminQuery, describePostgres, useTestDatabase, waitFor } from '../helpers/postgres.js';

let leases = 0;
const freshLease = () => `lease-${process.pid}-${++leases}`;

describePostgres('PostgreSQL leases', () => {
  const db = useTestDatabase('leases');
  /** Expiry by the server's clock, which is the one leases use. */
  const expired = async (name: string) => {
    const result = await adminQuery<{ expired: boolean }>(
      'SELECT expires_at < clock_timestamp() AS expired FROM scopefs.leases WHERE name = $1',
      [name],
      db.url,
    );
    return result.rows[0]?.expired === true;
  };
  let store: PostgresStore;
  beforeAll(async () => {
    store = new PostgresStore({ connectionString: db.url });
    await store.open();
  });
  afterAll(() => store?.close());

  it('grants a free lease with token 1 and refuses another holder while it is valid', async () => {
    const name = freshLease();
    const before = Date.now();
    const granted = await store.acquireLease(name, 'alice', 60_000);
    expect(granted).toMatchObject({ acquired: true, name, holder: 'alice', token: 1 });
    expect(granted.expiresAt).toBeGreaterThan(before + 50_000);

    const refused = await store.acquireLease(name, 'bob', 60_000);
    expect(refused).toEqual({ ...granted, acquired: false });
  });

  it('lets the holder re-acquire to extend, keeping its token', async () => {
    const name = freshLease();
    const first = await store.acquireLease(name, 'alice', 1_000);
    const again = await store.acquireLease(name, 'alice', 60_000);
    expect(again).toMatchObject({ acquired: true, holder: 'alice', token: first.token });
    expect(again.expiresAt!).toBeGreaterThan(first.expiresAt!);
  });

  it('hands an expired lease to a new holder with a higher token; the old token can no longer renew or release', async () => {
    const name = freshLease();
    const alice = await store.acquireLease(name, 'alice', 500);
    expect((await store.acquireLease(name, 'bob', 60_000)).acquired).toBe(false);
    await waitFor(() => expired(name), 10_000, 'the lease to expire');
    const bob = await store.acquireLease(name, 'bob', 60_000);
    expect(bob).toMatchObject({ acquired: true, holder: 'bob' });
    expect(bob.token).toBeGreaterThan(alice.token);

    const staleRenew = await store.renewLease(name, 'alice', alice.token, 60_000);
    expect(staleRenew).toMatchObject({ acquired: false, holder: 'bob', token: bob.token });
    expect(await store.releaseLease(name, 'alice', alice.token)).toBe(false);
    expect((await store.acquireLease(name, 'carol', 60_000)).acquired).toBe(false);
  });

  it('renews with the current token, and fails to renew once expired', async () => {
    const name = freshLease();
    const lease = await store.acquireLease(name, 'alice', 60_000);
    const renewed = await store.renewLease(name, 'alice', lease.token, 120_000);
    expect(renewed).toMatchObject({ acquired: true, token: lease.token });
    expect(renewed.expiresAt!).toBeGreaterThan(lease.expiresAt!);

    const short = await store.acquireLease(freshLease(), 'alice', 100);
    await waitFor(() => expired(short.name), 10_000, 'the lease to expire');
    expect(await store.renewLease(short.name, 'alice', short.token, 60_000)).toMatchObject({ acquired: false, token: short.token });
    // Nobody took it over, yet the expired holder must acquire anew, and gets a new token.
    const retaken = await store.acquireLease(short.name, 'alice', 60_000);
    expect(retaken).toMatchObject({ acquired: true, token: short.token + 1 });
  });

  it('released leases are free at once, and tokens never go back', async () => {
    const name = freshLease();
    const alice = await store.acquireLease(name, 'alice', 60_000);
    expect(await store.releaseLease(name, 'alice', alice.token)).toBe(true);
    expect(await store.releaseLease(name, 'alice', alice.token)).toBe(false);
    const bob = await store.acquireLease(name, 'bob', 60_000);
    expect(bob).toMatchObject({ acquired: true, holder: 'bob', token: alice.token + 1 });
  });

  it('gives a contended lease to exactly one of many concurrent acquirers', async () => {
    const name = freshLease();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.acquireLease(name, `holder-${i}`, 60_000)),
    );
    const winners = results.filter((lease) => lease.acquired);
    expect(winners).toHaveLength(1);
    expect(results.every((lease) => lease.holder === winners[0]!.holder && lease.token === 1)).toBe(true);
  });

  it('rejects bad arguments with EINVAL', async () => {
    for (const attempt of [
      () => store.acquireLease('', 'a', 1000),
      () => store.acquireLease('x', '', 1000),
      () => store.acquireLease('x', 'a', 0),
      () => store.renewLease('x', 'a', -1, 1000),
    ]) {
      const err = await attempt().then(() => null, (e: unknown) => e);
      expect(isScopeFsError(err, 'EINVAL'), String(err)).toBe(true);
    }
  });
});
