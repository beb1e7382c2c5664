import { describe, expect, it } from 'vitest';

describe('subpath entries resolve to the sources in tests', () => {
  it('scopefs/postgres, /supabase, /http and /mcp', async () => {
    expect(typeof (await import('scopefs/postgres')).PostgresStore).toBe('function');
    expect(typeof (await import('scopefs/supabase')).SupabaseStore).toBe('function');
    expect(typeof (await import('scopefs/http')).startHttpServer).toBe('function');
    expect(typeof (await import('scopefs/mcp')).createMcpServer).toBe('function');
  });
});
