/** Defaults of `scopefs serve`, in a module light enough for the CLI to load at start. */
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 4480;
/** Largest file body (PUT) and MCP request. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;
/** Largest JSON body of the other routes. */
export const DEFAULT_MAX_JSON_BYTES = 1024 * 1024;
export const DEFAULT_HEARTBEAT_MS = 15_000;
export const DEFAULT_REPLAY_EVENTS = 1_000;
/** SSE streams open at once. */
export const DEFAULT_MAX_EVENT_STREAMS = 512;
/** Bytes waiting to be sent, summed over every SSE stream. */
export const DEFAULT_MAX_EVENT_BUFFER_BYTES = 32 * 1024 * 1024;
