import { Command } from 'commander';
import { ScopeFsError } from '../../errors.js';
import { clientToken } from '../connect.js';
import { findServe } from '../discovery.js';
import { addScopeOptions, rootOf, type ScopeCliOptions } from '../options.js';
import { Output } from '../output.js';
import { nextSignal } from '../signals.js';
import { SseParser, type SseEvent } from '../sse-lines.js';

/** `scopefs events`: follows a running serve's event stream (/v1/events) until Ctrl-C or the serve stops. */
export function eventsCommand(): Command {
  return addScopeOptions(new Command('events'), 'not used: events come from the running serve')
    .description('follow the events of the running serve (file changes, sync state, conflicts), one per line')
    .action(async (options: ScopeCliOptions) => {
      const root = rootOf(options);
      const serve = await findServe(root);
      if (!serve) throw new ScopeFsError('ENOENT', `no serve is running for ${root}; start one with: scopefs serve --root ${root}`);
      const token = await clientToken(options, serve);
      const abort = new AbortController();
      void nextSignal().then(() => abort.abort());
      await follow(`${serve.url}/v1/events`, token, abort.signal, new Output(options.json === true));
    });
}

async function follow(url: string, token: string | undefined, signal: AbortSignal, output: Output): Promise<void> {
  const headers: Record<string, string> = { accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) };
  let response: Response;
  try {
    response = await fetch(url, { headers, signal });
  } catch (err) {
    if (signal.aborted) return;
    throw new ScopeFsError('EIO', `the serve at ${url} did not answer`, { cause: err });
  }
  if (response.status === 401) throw new ScopeFsError('EINVAL', `the serve refused the token; pass --token or set SCOPEFS_TOKEN`);
  if (!response.ok || !response.body) throw new ScopeFsError('EIO', `the event stream answered HTTP ${response.status}`);
  const parser = new SseParser();
  const decoder = new TextDecoder();
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      for (const event of parser.push(decoder.decode(chunk, { stream: true }))) print(output, event);
    }
  } catch (err) {
    if (!signal.aborted) throw new ScopeFsError('EIO', 'the event stream broke off (the serve stopped?)', { cause: err });
  }
}

function print(output: Output, event: SseEvent): void {
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(event.data) as Record<string, unknown>;
  } catch {
    data = { data: event.data };
  }
  output.result({ event: event.event, id: event.id, ...data }, () => describe(event.event, data));
}

function describe(type: string, data: Record<string, unknown>): string {
  const subject = [data.path, data.from && `${String(data.from)} -> ${String(data.to)}`, data.state].find((part) => typeof part === 'string' && part !== '');
  const origin = typeof data.origin === 'string' ? ` (${data.origin})` : '';
  return `${new Date().toISOString()}  ${type}${subject ? `  ${String(subject)}` : ''}${origin}`;
}
