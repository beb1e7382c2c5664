/**
 * Which MCP tools a limited grant sees: a tool that could do nothing under the
 * grant is not listed at all; a listed tool still refuses, naming the grant,
 * any call on a path outside it (the filesystem facade checks every path).
 */
import type { McpServer, RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { checkGrant, grantAllowsAnywhere, type Grant, type GrantOperation } from '../http/tokens-grant.js';
import { MEMORY_ROOT } from './memory-tool.js';

/**
 * What each tool needs somewhere in the grant; a tool not named here needs
 * `read` if read-only, else `write`. `owner`: scope-wide operator tools that
 * no limited grant gets (the scope facade refuses them too).
 */
const TOOL_NEEDS: Record<string, GrantOperation | 'memory' | 'owner'> = {
  read_file: 'read',
  list_files: 'read',
  sync_status: 'read',
  write_file: 'write',
  edit_file: 'write',
  insert_lines: 'write',
  resolve_conflict: 'write',
  delete_file: 'delete',
  move_file: 'move',
  memory: 'memory',
  file_history: 'read',
  restore_file: 'write',
  lock_file: 'write',
  unlock_file: 'write',
  checkpoint: 'owner',
  list_checkpoints: 'owner',
  restore_checkpoint: 'owner',
  delete_checkpoint: 'owner',
  sync_pause: 'owner',
  sync_resume: 'owner',
  sync_confirm: 'owner',
  sync_resync: 'owner',
  search_records: 'owner',
};

/** Whether a tool is listed for the grant. */
export function toolAllowed(grant: Grant, name: string, annotations?: ToolAnnotations): boolean {
  const need = TOOL_NEEDS[name] ?? (annotations?.readOnlyHint === true ? 'read' : 'write');
  if (need === 'owner') return false;
  if (need === 'memory') return checkGrant(grant, 'read', MEMORY_ROOT).allowed;
  return grantAllowsAnywhere(grant, need);
}

/** Runs `register` (which registers tools on `server`), then removes the tools the grant does not allow. */
export function registerForGrant(server: McpServer, grant: Grant | undefined, register: () => void): void {
  if (!grant) return register();
  const registered: Array<{ name: string; annotations?: ToolAnnotations; tool: RegisteredTool }> = [];
  const original = server.registerTool;
  server.registerTool = ((name: string, config: { annotations?: ToolAnnotations }, callback: never) => {
    const tool = original.call(server, name, config as never, callback);
    registered.push({ name, annotations: config.annotations, tool });
    return tool;
  }) as typeof original;
  try {
    register();
  } finally {
    server.registerTool = original;
  }
  for (const { name, annotations, tool } of registered) if (!toolAllowed(grant, name, annotations)) tool.remove();
}
