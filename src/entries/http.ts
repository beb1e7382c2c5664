// `scopefs/http`: the HTTP API server (files, events over SSE, status, and MCP
// over Streamable HTTP). A separate entry, so that `import ... from 'scopefs'`
// loads no HTTP or MCP code.
export { startHttpServer, type HttpServerOptions, type HttpServerHandle } from '../http/server.js';
export { loadOrCreateToken, type AuthConfig } from '../http/auth.js';
// The same interface as a request handler an app mounts in its own server.
export { createScopeHandler, type RequestInfo, type ScopeHandler, type ScopeHandlerOptions } from '../http/handler.js';
export { type Authenticate, type Authenticated } from '../http/auth.js';
// Limited tokens: grants, the one grant check, the token store, a scope as one caller may use it.
export { checkGrant, describeGrant, type Grant, type GrantDecision, type GrantOperation } from '../http/tokens-grant.js';
export { TokenStore, tokensFilePath, parseLifetime, type CreateTokenInput, type TokenInfo, type TokenMatch } from '../http/tokens-store.js';
export { scopeForPrincipal, OWNER, type Principal } from '../http/tokens-scope.js';
export { readinessOf, type Readiness, type ReadinessCheck } from '../http/health.js';
// Many scopes on one server (serve --data): routes under /v1/scopes/<key>/, owner/scoped tokens and JWTs.
export { startTenantServer, type TenantServerOptions, type TenantServerHandle } from '../http/tenant-server.js';
export { createTenantHandler, type TenantHandler, type TenantHandlerOptions } from '../http/tenant-handler.js';
export { tenantAuthenticator, mayUseScope, type JwtConfig, type TenantAuthConfig, type TenantCaller, type TenantAuthenticate } from '../http/tenant-auth.js';
