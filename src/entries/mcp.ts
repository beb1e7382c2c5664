// `scopefs/mcp`: the MCP server for a scope, over stdio or bridged to a
// running HTTP server. A separate entry, so that `import ... from 'scopefs'`
// never loads the MCP SDK.
export { createMcpServer, type McpServerInfo } from '../mcp/server.js';
export { serveStdio, bridgeStdioToHttp, type StdioStreams, type BridgeTarget } from '../mcp/stdio.js';
