import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { isJSONRPCRequest, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { errorMessage } from '../errors.js';

export interface StdioStreams {
  stdin?: Readable;
  stdout?: Writable;
}

/** Serves `server` over stdio until stdin ends (the client went away). */
export async function serveStdio(server: McpServer, streams: StdioStreams = {}): Promise<void> {
  const stdin = streams.stdin ?? process.stdin;
  const transport = new StdioServerTransport(stdin, streams.stdout ?? process.stdout);
  const ended = once(stdin, 'end');
  await server.connect(transport);
  await ended;
  await server.close();
}

export interface BridgeTarget {
  /** The `/mcp` endpoint of a running `scopefs serve`. */
  url: string;
  token: string | undefined;
}

/**
 * Relays MCP messages between stdio and a running serve's Streamable HTTP
 * endpoint, so a stdio client reaches the same scope as the serve instead of
 * opening the root a second time.
 */
export async function bridgeStdioToHttp(target: BridgeTarget, streams: StdioStreams = {}): Promise<void> {
  const stdin = streams.stdin ?? process.stdin;
  const local = new StdioServerTransport(stdin, streams.stdout ?? process.stdout);
  const headers: Record<string, string> = target.token ? { authorization: `Bearer ${target.token}` } : {};
  const remote = new StreamableHTTPClientTransport(new URL(target.url), { requestInit: { headers } });
  const ended = once(stdin, 'end');
  remote.onmessage = (message) => {
    rememberProtocolVersion(remote, message);
    void local.send(message);
  };
  local.onmessage = (message) => {
    remote.send(message).catch((err: unknown) => {
      if (isJSONRPCRequest(message)) void local.send(relayFailure(message.id, err));
    });
  };
  await remote.start();
  await local.start();
  await ended;
  await Promise.all([local.close(), remote.close()]);
}

/** Later requests carry the negotiated version in their header, as the SDK's own client does. */
function rememberProtocolVersion(remote: StreamableHTTPClientTransport, message: JSONRPCMessage): void {
  const version = 'result' in message ? (message.result as { protocolVersion?: unknown }).protocolVersion : undefined;
  if (typeof version === 'string') remote.setProtocolVersion(version);
}

function relayFailure(id: string | number, err: unknown): JSONRPCMessage {
  return { jsonrpc: '2.0', id, error: { code: -32603, message: `scopefs serve did not answer: ${errorMessage(err)}` } };
}
