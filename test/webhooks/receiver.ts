/**
 * A local webhook receiver for the tests and the bench: records every
 * request with whether its signature verifies, fails the first `failFirst`
 * requests with 503, leaves `hangFirst` requests unanswered (the sender's
 * timeout), and answers 200 otherwise (or 500 while `failing`).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyPayload } from '../../src/webhooks/signature.js';

export interface Received {
  at: number;
  body: string;
  event: { id: string; type: string; path?: string; from?: string; to?: string };
  idempotencyKey: string;
  delivery: string;
  verified: string | undefined;
  answered: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Answered 200 (the sender counts these as delivered). */
  accepted(): Received[];
  failing: boolean;
  waitFor(test: (received: Received[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(options: { secret: string; failFirst?: number; hangFirst?: number; port?: number }): Promise<Receiver> {
  let fail = options.failFirst ?? 0;
  let hang = options.hangFirst ?? 0;
  const waiters = new Set<() => void>();
  const hanging = new Set<IncomingMessage>();
  const receiver: Receiver = {
    url: '',
    received: [],
    accepted: () => receiver.received.filter((r) => r.answered === 200),
    failing: false,
    waitFor: (test, timeoutMs = 15_000) =>
      new Promise<void>((resolve, reject) => {
        if (test(receiver.received)) return resolve();
        const timer = setTimeout(() => (waiters.delete(check), reject(new Error(`receiver: condition not met within ${timeoutMs} ms (${receiver.received.length} received)`))), timeoutMs);
        const check = (): void => {
          if (!test(receiver.received)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      }),
    close: async () => {
      for (const req of hanging) req.socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = (name: string): string => String(req.headers[name] ?? '');
      const status = hang > 0 ? 0 : fail > 0 || receiver.failing ? 503 : 200;
      if (hang > 0) hang--;
      else if (fail > 0) fail--;
      receiver.received.push({
        at: performance.now(),
        body,
        event: JSON.parse(body) as Received['event'],
        idempotencyKey: header('idempotency-key'),
        delivery: header('scopefs-delivery'),
        verified: verifyPayload(options.secret, { signature: header('scopefs-signature'), timestamp: header('scopefs-timestamp') }, body),
        answered: status,
      });
      for (const waiter of [...waiters]) waiter();
      if (status === 0) return void hanging.add(req);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'try later');
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return receiver;
}
