import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startPlatform, widgetCrd } from '../support/platform.js';

let p: Awaited<ReturnType<typeof startPlatform>>;
let base: string;

before(async () => {
  p = await startPlatform();
  base = `${p.url}/k8s`;
  await p.client.create(widgetCrd);
});
after(async () => p.close());

async function send(method: string, path: string, body?: string, contentType = 'application/json') {
  const r = await fetch(base + path, { method, body, headers: body === undefined ? {} : { 'content-type': contentType } });
  const status: any = await r.json();
  return { code: r.status, status };
}

function assertStatus(res: { code: number; status: any }, code: number, reason: string, message: RegExp) {
  assert.equal(res.code, code, JSON.stringify(res.status));
  assert.equal(res.status.kind, 'Status');
  assert.equal(res.status.code, code);
  assert.equal(res.status.reason, reason);
  assert.match(res.status.message, message);
}

test('malformed JSON is a 400 that says so', async () => {
  assertStatus(await send('POST', '/api/v1/namespaces/default/configmaps', '{"metadata": {'), 400, 'BadRequest', /not valid JSON/);
});

test('malformed YAML in an apply patch is a 400 that says so', async () => {
  assertStatus(await send('PATCH', '/api/v1/namespaces/default/configmaps/x?fieldManager=t', 'metadata: [unclosed', 'application/apply-patch+yaml'), 400, 'BadRequest', /not valid YAML/);
});

test('a schema-invalid object is a 422 naming the field path', async () => {
  const res = await send('POST', '/apis/example.com/v1/namespaces/default/widgets', JSON.stringify({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 0 } }));
  assertStatus(res, 422, 'Invalid', /spec\.size/);
  assert.equal(res.status.details.causes[0].field, 'spec.size');
});

test('an unknown type is a 404 naming it', async () => {
  assertStatus(await send('GET', '/apis/nowhere.io/v1/namespaces/default/gizmos'), 404, 'NotFound', /gizmos\.nowhere\.io/);
  assertStatus(await send('GET', '/api/v1/namespaces/default/gizmos'), 404, 'NotFound', /gizmos/);
});

test('a stale resourceVersion is a 409 Conflict', async () => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data: { a: '1' } };
  const created = await send('POST', '/api/v1/namespaces/default/configmaps', JSON.stringify(cm));
  assert.equal(created.code, 201);
  const rv = created.status.metadata.resourceVersion;
  assert.equal((await send('PUT', '/api/v1/namespaces/default/configmaps/cfg', JSON.stringify({ ...cm, metadata: { ...cm.metadata, resourceVersion: rv }, data: { a: '2' } }))).code, 200);
  assertStatus(await send('PUT', '/api/v1/namespaces/default/configmaps/cfg', JSON.stringify({ ...cm, metadata: { ...cm.metadata, resourceVersion: rv }, data: { a: '3' } })), 409, 'Conflict', /modified/);
});

test('an oversized body is a 413 and the server keeps serving', async () => {
  const huge = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { blob: 'x'.repeat(4 * 1024 * 1024) } });
  assertStatus(await send('POST', '/api/v1/namespaces/default/configmaps', huge), 413, 'RequestEntityTooLarge', /larger than the limit/);
  assert.equal((await fetch(`${p.url}/healthz`)).status, 200);
});

test('wrong kinds, bodies and methods are 4xx, never 500', async () => {
  const cases: [string, string, string | undefined, string | undefined][] = [
    ['POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } }), undefined],
    ['POST', '/api/v1/namespaces/default/configmaps', '[1,2]', undefined],
    ['POST', '/api/v1/namespaces/default/configmaps', '"just a string"', undefined],
    ['POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ metadata: 'nope' }), undefined],
    ['PATCH', '/api/v1/namespaces/default/configmaps/cfg', '{}', 'text/plain'],
    ['PATCH', '/api/v1/namespaces/default/configmaps/cfg', '{"op":"add"}', 'application/json-patch+json'],
    ['PATCH', '/api/v1/namespaces/default/configmaps/cfg', '[{"op":"remove","path":"/data/nope"}]', 'application/json-patch+json'],
    ['GET', '/api/v1/namespaces/default/configmaps?labelSelector=a%20in%20(', undefined, undefined],
    ['GET', '/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=abc', undefined, undefined],
    ['PUT', '/api/v1/namespaces/default/configmaps', '{}', undefined],
    ['DELETE', '/api/v1/namespaces/default/configmaps/none', undefined, undefined],
  ];
  for (const [method, path, body, ct] of cases) {
    const r = await fetch(base + path, { method, body, headers: body === undefined ? {} : { 'content-type': ct ?? 'application/json' } });
    const text = await r.text();
    const okStatus = r.status >= 400 && r.status < 500;
    const streamedError = r.status === 200 && text.includes('"type":"ERROR"');
    assert.ok(okStatus || streamedError, `${method} ${path} answered ${r.status}: ${text.slice(0, 200)}`);
    assert.match(text, /"kind":"Status"/, `${method} ${path} answered with a Status`);
  }
  const cfg: any = await fetch(`${base}/api/v1/namespaces/default/configmaps/cfg`).then((r) => r.json());
  assert.deepEqual(cfg.data, { a: '2' }, 'none of the bad requests changed what was stored');
});

test('the admin token is checked when given', async () => {
  const r = await fetch(`${base}/api/v1/namespaces`, { headers: { authorization: 'Bearer wrong' } });
  assert.equal(r.status, 401);
  const good = await fetch(`${base}/api/v1/namespaces`, { headers: { authorization: `Bearer ${p.adminToken}` } });
  assert.equal(good.status, 200);
});
