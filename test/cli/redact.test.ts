import { describe, expect, it } from 'vitest';
import { redactConnectionString } from '../../persistence/sql/pg-connection.js';
import { checkStoreUrl } from '../../src/cli/store-url.js';
import { holdsSecret, redactSecrets } from '../../src/redact.js';
import { StoreConnection } from '../../src/sync/store-connection.js';

// A real-shaped Supabase service-role JWT (header.payload.signature), made up.
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIiwiaXNzIjoic3VwYWJhc2UifQ.5Yx3bq2Fo_9kqQnV1r-abcDEF123';

/** [input, expected]: every form a secret takes in a store string or a message quoting one. */
const CASES: Array<[string, string]> = [
  // userinfo
  ['postgres://u:secret@h/db', 'postgres://u:***@h/db'],
  ['postgresql://u:p%40ss@h:5432/db?sslmode=require', 'postgresql://u:***@h:5432/db?sslmode=require'],
  ['postgres://u:p@ss@h/db', 'postgres://u:***@h/db'],
  ['postgres://:only-pass@h/db', 'postgres://:***@h/db'],
  // query parameters, any case, any position, percent-encoded names
  ['postgres://h/db?password=secret', 'postgres://h/db?password=***'],
  ['postgres://h/db?user=u&password=secret&sslmode=require', 'postgres://h/db?user=u&password=***&sslmode=require'],
  ['postgres://h/db?PASSWORD=secret', 'postgres://h/db?PASSWORD=***'],
  ['postgres://h/db?sslpassword=k3y&sslkey=/keys/client.key&sslcert=/keys/client.crt', 'postgres://h/db?sslpassword=***&sslkey=***&sslcert=/keys/client.crt'],
  ['postgres://h/db?pass%77ord=secret', 'postgres://h/db?pass%77ord=***'],
  ['postgres://u:a@h/db?password=b', 'postgres://u:***@h/db?password=***'],
  // libpq key=value strings
  ["host=h password='a b' user=u", 'host=h password=*** user=u'],
  ['host=h password = plain dbname=d', 'host=h password = *** dbname=d'],
  // Supabase: keys as parameters, in the userinfo, JWTs and sb_ keys anywhere
  [`supabase:https://xyz.supabase.co?apikey=${JWT}`, 'supabase:https://xyz.supabase.co?apikey=***'],
  [`supabase://xyz.supabase.co?service_role_key=abc123`, 'supabase://xyz.supabase.co?service_role_key=***'],
  [`supabase://${JWT}@xyz.supabase.co`, 'supabase://***@xyz.supabase.co'],
  ['supabase:https://xyz.supabase.co?key=sb_secret_AbC123xyz_987', 'supabase:https://xyz.supabase.co?key=***'],
  ['supabase://xyz.supabase.co/sb_publishable_AbC123xyz', 'supabase://xyz.supabase.co/sb_publishable_***'],
  [`supabase://xyz.supabase.co?anon=${JWT}`, 'supabase://xyz.supabase.co?anon=***'],
  ['https://h/x?access_token=t0k3n#id_token=t2', 'https://h/x?access_token=***#id_token=***'],
  // messages quoting a URL
  ['opening store postgres://u:pw@h/db?password=pw2 failed: timeout', 'opening store postgres://u:***@h/db?password=*** failed: timeout'],
  [`invalid supabase store URL "supabase:x?token=abc"`, `invalid supabase store URL "supabase:x?token=***"`],
  // nothing secret: unchanged
  ['postgres://u@h/db', 'postgres://u@h/db'],
  ['postgres://h:5432/db?sslmode=require&application_name=scopefs', 'postgres://h:5432/db?sslmode=require&application_name=scopefs'],
  ['sqlite:/tmp/a b/.scopefs/store.db', 'sqlite:/tmp/a b/.scopefs/store.db'],
  ['memory:test', 'memory:test'],
  ['supabase:https://xyz.supabase.co', 'supabase:https://xyz.supabase.co'],
  ['postgres://h/db?password=', 'postgres://h/db?password='],
];

describe('redactSecrets', () => {
  it.each(CASES)('%s', (input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
    expect(holdsSecret(input)).toBe(input !== expected);
    expect(redactSecrets(expected)).toBe(expected); // idempotent
  });

  it('is what every place that shows a store uses', () => {
    const url = `postgres://u:one@h/db?password=two&sslpassword=three&apikey=${JWT}`;
    const shown = [redactConnectionString(url), new StoreConnection(url).url];
    for (const text of shown) {
      expect(text).toBe(redactSecrets(url));
      for (const secret of ['one', 'two', 'three', JWT]) expect(text).not.toContain(secret);
    }
  });

  it('keeps the secret out of the error for an unknown scheme', () => {
    expect(() => checkStoreUrl('pg://u:hunter2@h/db?password=hunter3')).toThrow(/unknown store scheme "pg:"/);
    try {
      checkStoreUrl('pg://u:hunter2@h/db?password=hunter3');
    } catch (err) {
      expect(String(err)).not.toMatch(/hunter/);
    }
  });
});
