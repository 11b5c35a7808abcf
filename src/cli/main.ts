import { Command } from 'commander';
import { registerCoreCommands } from './commands/core.js';
import { fail } from './output.js';

/** The `pave` command. Each command group lives in src/cli/commands and is added here with one line. */
const program = new Command();
program.name('pave').description('Pave: an internal developer platform in one process').showHelpAfterError();
registerCoreCommands(program);

program.parseAsync(process.argv).catch(fail);
