import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '../../src/api/client.js';
import { ApiError } from '../../src/api/errors.js';
import { HttpClient } from '../../src/api/http-client.js';
import type { WatchEvent } from '../../src/api/types.js';
import { eventually, startPlatform, widget, widgetCrd } from '../support/platform.js';

let p: Awaited<ReturnType<typeof startPlatform>>;
let http: HttpClient;

before(async () => {
  p = await startPlatform();
  await p.client.create(widgetCrd);
  http = new HttpClient({ server: `${p.url}/k8s`, token: p.adminToken });
});
after(async () => {
  await http.close();
  await p.close();
});

/** The same behaviour through both Client implementations: a controller cannot tell them apart. */
for (const [name, client] of [['in-process', () => p.client as Client], ['http', () => http as Client]] as const) {
  describe(`Client: ${name}`, () => {
    const prefix = name === 'http' ? 'h' : 'i';
    test('create, get, update, updateStatus, patch, apply, list, delete', async () => {
      const c = client();
      const w = await c.create(widget(`${prefix}-a`, 1, { tier: 'x' }));
      assert.equal((await c.get({ apiVersion: 'example.com/v1', kind: 'Widget', namespace: 'default', name: `${prefix}-a` })).spec.size, 1);
      const u = await c.update({ ...w, spec: { ...w.spec, size: 2 } });
      assert.equal(u.metadata.generation, 2);
      const s = await c.updateStatus({ ...u, status: { phase: 'Ok' } });
      assert.equal(s.status.phase, 'Ok');
      const ref = { apiVersion: 'example.com/v1', kind: 'Widget', namespace: 'default', name: `${prefix}-a` };
      assert.equal((await c.patch(ref, 'merge', { spec: { size: 3 } })).spec.size, 3);
      const applied = await c.apply({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: `${prefix}-b`, namespace: 'default' }, spec: { size: 7 } }, { fieldManager: 'test' });
      assert.equal(applied.spec.size, 7);
      const list = await c.list('example.com/v1', 'Widget', { namespace: 'default', labelSelector: 'tier=x' });
      assert.deepEqual(list.items.map((i) => i.metadata.name), [`${prefix}-a`]);
      await c.delete(ref);
      await assert.rejects(c.get(ref), (e: unknown) => e instanceof ApiError && e.code === 404);
    });

    test('updateWithStatus replaces the object and its status, and refuses a stale version', async () => {
      const c = client();
      const w = await c.create(widget(`${prefix}-both`, 1));
      const seen: string[] = [];
      const watch = await c.watch('example.com/v1', 'Widget', { namespace: 'default', resourceVersion: w.metadata.resourceVersion }, (e: WatchEvent) => {
        if (e.object.metadata.name === `${prefix}-both`) seen.push(`${e.type}:${e.object.metadata.annotations?.note ?? '-'}:${e.object.status?.phase ?? '-'}`);
      });
      const both = await c.updateWithStatus({ ...w, metadata: { ...w.metadata, annotations: { note: 'hi' } }, status: { phase: 'Ok' } });
      assert.equal(both.metadata.annotations?.note, 'hi');
      assert.equal(both.status.phase, 'Ok');
      // in process the two parts are one write; over HTTP an update, then a status update
      const expected = name === 'http' ? ['MODIFIED:hi:-', 'MODIFIED:hi:Ok'] : ['MODIFIED:hi:Ok'];
      await eventually(() => seen.length >= expected.length);
      assert.deepEqual(seen, expected);
      watch.stop();
      await watch.done;
      await assert.rejects(c.updateWithStatus({ ...w, status: { phase: 'Stale' } }), (e: unknown) => e instanceof ApiError && e.code === 409);
      assert.equal((await c.get({ apiVersion: 'example.com/v1', kind: 'Widget', namespace: 'default', name: `${prefix}-both` })).status.phase, 'Ok');
    });

    test('watch delivers events and stops', async () => {
      const c = client();
      const seen: string[] = [];
      const w = await c.watch('example.com/v1', 'Widget', { namespace: 'default' }, (e: WatchEvent) => seen.push(`${e.type}:${e.object.metadata.name}`));
      await c.create(widget(`${prefix}-watched`));
      await eventually(() => seen.includes(`ADDED:${prefix}-watched`));
      w.stop();
      await w.done;
    });
  });
}

test('HttpClient reports an unreachable server as a 503 naming the address', async () => {
  const dead = new HttpClient({ server: 'http://127.0.0.1:1/k8s' });
  await assert.rejects(dead.list('v1', 'ConfigMap'), (e: unknown) => e instanceof ApiError && e.code === 503 && /127\.0\.0\.1:1/.test(e.message));
  await dead.close();
});
