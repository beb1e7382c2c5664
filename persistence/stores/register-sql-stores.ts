/**
 * @deprecated openStore now loads the SQL stores from the scheme table
 * (store-schemes.ts) on first use, so there is nothing to register. This
 * does nothing; it stays only until the tests that still call it drop the
 * call, then this file goes.
 */
export function registerSqlStores(): void {}
