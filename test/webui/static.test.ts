import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { webUiModule } from '../../src/webui/index.js';
import { startPlatform, tempDir } from '../support/platform.js';

const script = `console.info(${JSON.stringify('x'.repeat(4000))});`;
let p: Awaited<ReturnType<typeof startPlatform>>;

before(async () => {
  const root = tempDir('pave-web-');
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><div id="root"></div><script src="/assets/app-1a2b3c.js"></script>');
  writeFileSync(join(root, 'assets', 'app-1a2b3c.js'), script);
  p = await startPlatform({ modules: [webUiModule({ root })] });
});
after(() => p.close());

test('the app is served at / and every app route falls back to index.html', async () => {
  for (const path of ['/', '/catalog', '/catalog/default/component/orders?tab=infrastructure', '/create/tasks/abc']) {
    const res = await request(`${p.url}${path}`);
    assert.equal(res.statusCode, 200, path);
    assert.match(String(res.headers['content-type']), /text\/html/);
    assert.equal(res.headers['cache-control'], 'no-cache');
    assert.match(await res.body.text(), /<div id="root">/);
  }
});

test('hashed assets are gzipped for clients that accept it and cached for good', async () => {
  const res = await request(`${p.url}/assets/app-1a2b3c.js`, { headers: { 'accept-encoding': 'gzip, br' } });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-encoding'], 'gzip');
  assert.match(String(res.headers['cache-control']), /immutable/);
  const body = Buffer.from(await res.body.arrayBuffer());
  assert.ok(body.length < script.length / 4, 'the gzip form is much smaller');
  assert.equal(gunzipSync(body).toString(), script);
  const plain = await request(`${p.url}/assets/app-1a2b3c.js`);
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.equal(await plain.body.text(), script);
});

test('a missing asset and an unknown API path are JSON 404s, not the app', async () => {
  for (const path of ['/assets/app-old.js', '/api/nope/things', '/k8s/apis/nope.example.com/v1/things']) {
    const res = await request(`${p.url}${path}`);
    assert.equal(res.statusCode, 404, path);
    const status = (await res.body.json()) as { kind: string; message: string };
    assert.equal(status.kind, 'Status', path);
  }
  const discovery = await request(`${p.url}/k8s/api/v1`);
  assert.equal(discovery.statusCode, 200, 'the resource API is not shadowed by the app routes');
});

test('without a build, / says how to build the web UI', async () => {
  const bare = await startPlatform({ modules: [webUiModule({ root: tempDir('pave-web-empty-') })] });
  try {
    const res = await request(`${bare.url}/catalog`);
    assert.equal(res.statusCode, 503);
    assert.match(await res.body.text(), /npm run build/);
  } finally {
    await bare.close();
  }
});
