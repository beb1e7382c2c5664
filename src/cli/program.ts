import { Command, CommanderError } from 'commander';
import { auditCommand } from './commands/audit.js';
import { fileCommands } from './commands/files.js';
import { historyCommands } from './commands/history.js';
import { lockCommands } from './commands/locks.js';
import { mcpCommand } from './commands/mcp.js';
import { eventsCommand } from './commands/events.js';
import { migrateCommand } from './commands/migrate.js';
import { serveCommand } from './commands/serve.js';
import { syncCommands } from './commands/sync.js';
import { tokenCommand } from './commands/tokens.js';
import { tailCommand } from './commands/tail.js';
import { webhookCommand } from './commands/webhooks.js';
import { reportError } from './output.js';
import { packageVersion } from './version.js';

/** The `scopefs` command line. */
export function buildProgram(): Command {
  const program = new Command('scopefs')
    .description('A scoped, crash-proof filesystem for AI agents, synced across instances through a database.')
    .version(packageVersion())
    .showHelpAfterError('(run scopefs --help to list the commands)')
    .exitOverride();
  for (const command of [serveCommand(), ...fileCommands(), ...historyCommands(), ...syncCommands(), migrateCommand(), mcpCommand(), eventsCommand(), tokenCommand(), auditCommand(), ...lockCommands(), tailCommand(), webhookCommand()]) {
    program.addCommand(command.exitOverride().showHelpAfterError(`(run scopefs ${command.name()} --help for its usage)`));
  }
  return program;
}

/** Runs the CLI; resolves with the exit code: 0 ok, 1 error, 2 usage. */
export async function run(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
    return 0;
  } catch (err) {
    // Commander has already printed its message (or the help it was asked for).
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    return reportError(err, argv.includes('--json'));
  }
}
