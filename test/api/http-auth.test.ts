import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isLoopbackHost } from '../../src/api/http/auth.js';
import { gitHostModule } from '../../src/githost/index.js';
import { portalModule } from '../../src/portal/index.js';
import { fromNetwork, startPlatform } from '../support/platform.js';

/**
 * Who may call Pave without a token: whoever is on this machine (the local web UI, CLI and
 * kubectl); from other machines no one, on every API that changes or reveals state.
 */
let open: Awaited<ReturnType<typeof startPlatform>>;
let closed: Awaited<ReturnType<typeof startPlatform>>;
/** The network-facing server, reached as another machine would reach it. */
let base: string;

before(async () => {
  open = await startPlatform({ modules: [gitHostModule(), portalModule()] });
  closed = await startPlatform({ host: '0.0.0.0', modules: [gitHostModule(), portalModule()] });
  base = fromNetwork(closed.url);
  const repo = await fetch(`${base}/api/git/repos`, { method: 'POST', headers: { authorization: `Bearer ${closed.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ owner: 'team', name: 'app' }) });
  assert.equal(repo.status, 201, await repo.text());
});
after(async () => {
  await open?.close();
  await closed?.close();
});

test('only loopback addresses count as loopback', () => {
  for (const h of ['127.0.0.1', '127.8.9.10', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST']) assert.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '::', '192.168.1.20', '10.0.0.1', '::ffff:10.0.0.1', 'pave.example.com', '128.0.0.1']) assert.ok(!isLoopbackHost(h), h);
});

test('on a network address a request from this machine needs no token, unless a proxy forwarded it', async () => {
  const local = closed.url.replace('0.0.0.0', '127.0.0.1');
  assert.equal((await fetch(`${local}/k8s/api/v1/namespaces`)).status, 200);
  assert.equal((await fetch(`${local}/api/catalog/entities`)).status, 200);
  for (const header of [{ 'x-forwarded-for': '203.0.113.9' }, { forwarded: 'for=203.0.113.9' }] as Record<string, string>[]) {
    assert.equal((await fetch(`${local}/k8s/api/v1/namespaces`, { headers: header })).status, 401, JSON.stringify(header));
  }
});

const PATHS = ['/k8s/api/v1/namespaces', '/k8s/apis', '/k8s/version', '/k8s/openapi/v3', '/api/catalog/entities', '/api/scaffolder/v2/tasks', '/api/techdocs/metadata/techdocs/default/component/x', '/api/git/repos', '/git/team/app.git/info/refs?service=git-upload-pack'];

test('from another machine every API refuses a request without a token, saying where the token is', async () => {
  for (const path of PATHS) {
    const r = await fetch(base + path);
    const text = await r.text();
    assert.equal(r.status, 401, `${path}: ${text}`);
    assert.match(text, /\.pave\/token/, `${path} names the token file`);
  }
  const k8s = (await (await fetch(`${base}/k8s/api/v1/namespaces`)).json()) as { reason: string; message: string };
  assert.equal(k8s.reason, 'Unauthorized');
  assert.match(k8s.message, /Authorization: Bearer <token>.*kubeconfig/);
  const post = await fetch(`${base}/api/catalog/locations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'url', target: 'http://example.com/catalog-info.yaml' }) });
  assert.equal(post.status, 401, 'writes too');
});

test('from another machine the token opens every API, and a wrong one is refused', async () => {
  for (const path of PATHS.filter((p) => !p.includes('techdocs'))) {
    const good = await fetch(base + path, { headers: { authorization: `Bearer ${closed.adminToken}` } });
    assert.equal(good.status, 200, `${path}: ${await good.text()}`);
    const wrong = await fetch(base + path, { headers: { authorization: 'Bearer not-the-token' } });
    assert.equal(wrong.status, 401, path);
    assert.match(await wrong.text(), /not valid|password is not/, path);
  }
  const basic = Buffer.from(`pave:${closed.adminToken}`).toString('base64');
  const clone = await fetch(`${base}/git/team/app.git/info/refs?service=git-upload-pack`, { headers: { authorization: `Basic ${basic}` } });
  assert.equal(clone.status, 200, 'git clients send the token as the Basic password');
});

test('health and metrics stay open, for probes and scrapers without a token', async () => {
  for (const path of ['/livez', '/readyz', '/healthz', '/metrics']) assert.equal((await fetch(base + path)).status, 200, path);
});

test('on loopback a request without a token is served, and a wrong token is still refused', async () => {
  for (const path of PATHS) assert.notEqual((await fetch(open.url + path)).status, 401, path);
  const wrong = await fetch(`${open.url}/k8s/api/v1/namespaces`, { headers: { authorization: 'Bearer not-the-token' } });
  assert.equal(wrong.status, 401);
});

test('allowAnonymous opts other machines in, and false shuts out this one too', async () => {
  const anywhere = await startPlatform({ host: '0.0.0.0', allowAnonymous: true });
  const never = await startPlatform({ allowAnonymous: false });
  try {
    assert.equal((await fetch(`${fromNetwork(anywhere.url)}/k8s/api/v1/namespaces`)).status, 200);
    assert.equal((await fetch(`${never.url}/k8s/api/v1/namespaces`)).status, 401);
  } finally {
    await anywhere.close();
    await never.close();
  }
});
