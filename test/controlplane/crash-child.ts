/**
 * The process the crash test kills: a platform with the control plane and the nop test
 * provider (its backend in a state file), which creates the claims not yet created and reports
 * when all are Ready. Usage: node crash-child.js DATA_DIR STATE_FILE CLAIMS
 */
import { createLogger } from '../../src/api/log.js';
import { isApiError } from '../../src/api/errors.js';
import { controlPlaneModule } from '../../src/controlplane/index.js';
import { NopBackend, nopProviderModule } from '../../src/providers/nop/index.js';
import { Platform } from '../../src/platform.js';
import { postgresClaim, postgresComposition, postgresXrd, XR_API, yamlDocs } from './fixtures.js';

const [dataDir, statePath, count] = process.argv.slice(2);
const claims = Number(count);
const p = new Platform({ dataDir: dataDir!, listen: false, log: createLogger('silent'), modules: [controlPlaneModule(), nopProviderModule({ backend: new NopBackend({ statePath }) })] });
await p.start();
for (const o of [...yamlDocs(postgresXrd), ...yamlDocs(postgresComposition())]) await p.client.apply(o, { fieldManager: 'crash-test', force: true });
while (!p.registry.lookup(XR_API, 'PostgreSQLInstance')) await new Promise((r) => setTimeout(r, 10));
process.stdout.write('started\n');
const existing = new Set((await p.client.list(XR_API, 'PostgreSQLInstance', { namespace: 'default' })).items.map((o) => o.metadata.name));
for (let i = 0; i < claims; i++) {
  const name = `crash-${i}`;
  if (existing.has(name)) continue;
  await p.client.create(postgresClaim(name, 1 + (i % 50))).catch((e) => {
    if (!isApiError(e, 409)) throw e;
  });
}
process.stdout.write('created\n');
for (;;) {
  const items = (await p.client.list(XR_API, 'PostgreSQLInstance', { namespace: 'default' })).items;
  const ready = items.filter((o) => (o.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True')).length;
  if (ready === claims) break;
  await new Promise((r) => setTimeout(r, 200));
}
process.stdout.write('ready\n');
await p.stop();
process.exit(0);
