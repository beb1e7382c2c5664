// `scopefs/http`: the HTTP API server (files, events over SSE, status, and MCP
// over Streamable HTTP). A separate entry, so that `import ... from 'scopefs'`
// loads no HTTP or MCP code.
export { startHttpServer, type HttpServerOptions, type HttpServerHandle } from '../http/server.js';
export { loadOrCreateToken, type AuthConfig } from '../http/auth.js';
