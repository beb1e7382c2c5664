import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

/**
 * A PostgreSQL server that asks for a cleartext password and records it
 * (the real test server trusts loopback, so it would never see one). This
 * shows that a password kept off the command line still reaches the driver.
 */
class PasswordRecorder {
  readonly passwords: string[] = [];
  private readonly server: Server = createServer((socket) => this.serve(socket));

  async start(): Promise<number> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: Socket): void {
    let buffer = Buffer.alloc(0);
    let started = false;
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!started && buffer.length >= 4 && buffer.length >= buffer.readInt32BE(0)) {
        buffer = buffer.subarray(buffer.readInt32BE(0));
        started = true;
        socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3])); // AuthenticationCleartextPassword
      }
      if (started && buffer.length >= 5 && buffer[0] === 0x70 && buffer.length >= 1 + buffer.readInt32BE(1)) {
        this.passwords.push(buffer.subarray(5, buffer.readInt32BE(1)).toString('utf8').replace(/\0$/, ''));
        socket.end(errorResponse('28P01', 'password authentication failed'));
      }
    });
  }
}

function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0C${code}\0M${message}\0\0`);
  const header = Buffer.alloc(5);
  header[0] = 0x45;
  header.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([header, fields]);
}

describe('passwords kept off the command line', () => {
  const recorder = new PasswordRecorder();
  let port: number;
  let dir: string;

  beforeAll(async () => {
    port = await recorder.start();
    dir = await mkdtemp(join(tmpdir(), 'scopefs-pgpass-'));
  });

  afterAll(async () => {
    await recorder.close();
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['PGPASSWORD', (url: string) => ({ args: ['--store', url], env: { PGPASSWORD: 'from-pgpassword' } }), 'from-pgpassword'],
    ['SCOPEFS_STORE', (url: string) => ({ args: [], env: { SCOPEFS_STORE: `${url}?password=from-env` } }), 'from-env'],
    ['--store-file', (url: string) => ({ args: ['--store-file', join(dir, 'url')], env: {}, file: `${url}?password=from-file` }), 'from-file'],
  ])('%s reaches the driver, is never printed, and draws no warning', async (_name, setup, expected) => {
    const given = setup(`postgres://scopefs@127.0.0.1:${port}/db`) as { args: string[]; env: Record<string, string>; file?: string };
    if (given.file) await writeFile(join(dir, 'url'), given.file, { mode: 0o600 });
    const result = await runCli(['migrate', ...given.args], { env: given.env });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/password authentication failed/);
    expect(result.stderr).not.toContain(expected);
    expect(result.stderr).not.toMatch(/warning/);
    expect(recorder.passwords).toContain(expected);
  }, 60_000);
});
