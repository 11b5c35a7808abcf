import { Command } from 'commander';
import { registerAppCommands } from './commands/app.js';
import { registerCatalogCommands } from './commands/catalog.js';
import { registerCoreCommands } from './commands/core.js';
import { registerControlPlaneCommands } from './commands/controlplane.js';
import { fail } from './output.js';

/** The `pave` command. Each command group lives in src/cli/commands and is added here with one line. */
const program = new Command();
program.name('pave').description('Pave: an internal developer platform in one process').showHelpAfterError();
registerCoreCommands(program);
registerCatalogCommands(program);
registerAppCommands(program);
registerControlPlaneCommands(program);

program.parseAsync(process.argv).catch(fail);
