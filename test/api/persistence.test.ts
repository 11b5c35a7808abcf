import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Agent, request } from 'undici';
import { tempDir } from '../support/platform.js';
import { freePort, startPaveProcess, stopProcess } from '../support/process.js';

/** The API alone: these tests are about storage, not the local cloud. */
const LEAN = ['--no-local-cloud', '--no-starter-platform', '--dns-port', '0'];

test('data survives a restart, and a kill -9 during a burst of writes loses no acknowledged write', async () => {
  const dataDir = tempDir('pave-persist-');
  const port = await freePort();
  let server = await startPaveProcess(dataDir, port, LEAN);
  const agent = new Agent({ connections: 8 });
  const post = async (i: number) => {
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `burst-${i}` }, data: { i: String(i) } });
    const r = await request(`${server.url}/k8s/api/v1/namespaces/default/configmaps`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent });
    await r.body.text();
    return r.statusCode === 201;
  };
  assert.ok(await post(-1));
  await stopProcess(server.child, 'SIGTERM');
  server = await startPaveProcess(dataDir, port, LEAN);
  const before = await fetch(`${server.url}/k8s/api/v1/namespaces/default/configmaps/burst--1`);
  assert.equal(before.status, 200, 'an object written before a clean restart is there after it');

  const acked = new Set<number>();
  let next = 0;
  const writers = Array.from({ length: 8 }, async () => {
    for (;;) {
      const i = next++;
      try {
        if (await post(i)) acked.add(i);
      } catch {
        return; // the server is gone
      }
    }
  });
  await new Promise((r) => setTimeout(r, 700));
  server.child.kill('SIGKILL');
  await Promise.all(writers);
  await agent.close();
  assert.ok(acked.size > 100, `the burst acknowledged ${acked.size} writes before the kill`);

  server = await startPaveProcess(dataDir, port, LEAN);
  const list: any = await fetch(`${server.url}/k8s/api/v1/namespaces/default/configmaps`).then((r) => r.json());
  const stored = new Set<number>(list.items.map((i: { data: { i: string } }) => Number(i.data.i)));
  const lost = [...acked].filter((i) => !stored.has(i));
  assert.deepEqual(lost, [], `acknowledged writes missing after kill -9: ${lost.slice(0, 10).join(', ')}`);
  await stopProcess(server.child);
});

test("a Secret's data is encrypted at rest: the database files do not contain the plaintext", async () => {
  const dataDir = tempDir('pave-secret-');
  const port = await freePort();
  const server = await startPaveProcess(dataDir, port, LEAN);
  const plaintext = 'correct-horse-battery-staple-7f3a';
  const body = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: plaintext } });
  const r = await fetch(`${server.url}/k8s/api/v1/namespaces/default/secrets`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 201);
  const got: any = await fetch(`${server.url}/k8s/api/v1/namespaces/default/secrets/db`).then((x) => x.json());
  assert.equal(Buffer.from(got.data.password, 'base64').toString(), plaintext, 'the API returns the value');
  await stopProcess(server.child);
  const encoded = Buffer.from(plaintext).toString('base64');
  for (const f of readdirSync(dataDir).filter((n) => n.startsWith('pave.db'))) {
    const raw = readFileSync(join(dataDir, f));
    assert.equal(raw.includes(plaintext), false, `${f} contains the plaintext`);
    assert.equal(raw.includes(encoded), false, `${f} contains the base64 of the plaintext`);
  }
});
