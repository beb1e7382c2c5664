import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { errorMessage } from '../errors.js';

/**
 * Runs a tool's work and shapes its outcome: each returned string becomes a
 * text block; any error becomes an MCP tool error carrying its message, so a
 * bad call never takes the server down.
 */
export async function runTool(work: () => Promise<string | string[]>): Promise<CallToolResult> {
  try {
    const output = await work();
    const texts = Array.isArray(output) ? output : [output];
    return { content: texts.map((text) => ({ type: 'text' as const, text })) };
  } catch (err) {
    return { isError: true, content: [{ type: 'text', text: errorMessage(err) }] };
  }
}
