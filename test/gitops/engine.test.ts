import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../src/api/log.js';
import { diff } from '../../src/gitops/diff.js';
import { assessHealth } from '../../src/gitops/health.js';
import { LuaHealthChecks, runHealthScript } from '../../src/gitops/lua-health.js';
import { ManifestError, renderFiles, selectFiles } from '../../src/gitops/render.js';

const cm = (data: Record<string, string>, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default', ...extra }, data });

test('render reads multi-document YAML, JSON and Lists, and names the file and line of a bad document', () => {
  const objs = renderFiles([
    { path: 'a/one.yaml', relative: 'one.yaml', content: '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n' },
    { path: 'a/two.json', relative: 'two.json', content: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'c' } }] }) },
  ]);
  assert.deepEqual(objs.map((o) => o.metadata.name), ['a', 'b', 'c']);
  assert.throws(() => renderFiles([{ path: 'a/bad.yaml', relative: 'bad.yaml', content: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  name: y\n' }]), (e: unknown) => e instanceof ManifestError && e.file === 'a/bad.yaml' && e.line === 5);
  assert.throws(() => renderFiles([{ path: 'k.yaml', relative: 'k.yaml', content: 'apiVersion: v1\nmetadata: {name: a}\n' }]), /k\.yaml:1: kind is missing/);
});

test('directory include, exclude and recurse choose files as Argo CD does', () => {
  const files = ['a.yaml', 'b.json', 'notes.md', 'sub/c.yaml', 'sub/deep/d.yml', 'values.yaml'];
  assert.deepEqual(selectFiles(files, {}), ['a.yaml', 'b.json', 'values.yaml']);
  assert.deepEqual(selectFiles(files, { recurse: true }), ['a.yaml', 'b.json', 'sub/c.yaml', 'sub/deep/d.yml', 'values.yaml']);
  assert.deepEqual(selectFiles(files, { recurse: true, exclude: 'values.yaml' }), ['a.yaml', 'b.json', 'sub/c.yaml', 'sub/deep/d.yml']);
  assert.deepEqual(selectFiles(files, { recurse: true, include: '{a.yaml,sub/*}' }), ['a.yaml', 'sub/c.yaml']);
});

test('diff ignores server-set fields and defaults, sees changed values, and honours ignoreDifferences', () => {
  const live = { ...cm({ a: '1', b: '2' }, { uid: 'u', resourceVersion: '5', generation: 1, managedFields: [] }), status: { x: 1 } };
  assert.equal(diff(cm({ a: '1' }), live).inSync, true);
  const changed = diff(cm({ a: '9' }), live);
  assert.equal(changed.inSync, false);
  assert.deepEqual(changed.changes, [{ path: 'data.a', desired: '9', live: '1' }]);
  assert.equal(diff(cm({ a: '9' }), live, [{ kind: 'ConfigMap', jsonPointers: ['/data/a'] }]).inSync, true);
  assert.equal(diff(cm({ a: '9' }), live, [{ kind: 'ConfigMap', jqPathExpressions: ['.data.a'] }]).inSync, true);
  assert.equal(diff(cm({ a: '1' }), undefined).inSync, false);
});

test('health follows Crossplane conditions and built-in kinds', () => {
  const xr = (conds: object[]) => ({ apiVersion: 'example.org/v1', kind: 'XDatabase', metadata: { name: 'd' }, status: { conditions: conds } });
  assert.equal(assessHealth(xr([{ type: 'Synced', status: 'True' }, { type: 'Ready', status: 'True' }]))?.status, 'Healthy');
  assert.equal(assessHealth(xr([{ type: 'Synced', status: 'True' }, { type: 'Ready', status: 'False', reason: 'Creating' }]))?.status, 'Progressing');
  assert.equal(assessHealth(xr([{ type: 'Synced', status: 'False', message: 'cannot connect' }]))?.status, 'Degraded');
  assert.equal(assessHealth(undefined)?.status, 'Missing');
  assert.equal(assessHealth(cm({})), undefined);
  const pkg = (conds?: object[]) => ({ apiVersion: 'pkg.crossplane.io/v1', kind: 'Provider', metadata: { name: 'p' }, spec: { package: 'xpkg.example/provider-x:v1' }, ...(conds ? { status: { conditions: conds } } : {}) });
  assert.equal(assessHealth(pkg())?.status, 'Progressing');
  assert.equal(assessHealth({ ...pkg([{ type: 'Installed', status: 'True' }, { type: 'Healthy', status: 'False', message: 'cannot load' }]), kind: 'Function' })?.status, 'Degraded');
  assert.equal(assessHealth(pkg([{ type: 'Installed', status: 'True' }, { type: 'Healthy', status: 'True' }]))?.status, 'Healthy');
  assert.deepEqual(assessHealth(pkg([{ type: 'Installed', status: 'False', reason: 'InactivePackageRevision' }, { type: 'Healthy', status: 'False', message: 'no built-in provider for it' }])), {
    status: 'Degraded',
    message: 'InactivePackageRevision; no built-in provider for it',
  });
});

test("Argo CD Lua health checks run sandboxed against the object", () => {
  const script = `
hs = {}
if obj.status ~= nil and obj.status.phase == "Ready" then
  hs.status = "Healthy"
  hs.message = "ready with " .. #obj.spec.items .. " items"
  return hs
end
hs.status = "Progressing"
hs.message = "waiting"
return hs`;
  const ready = { apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 't' }, spec: { items: [1, 2, 3] }, status: { phase: 'Ready' } };
  assert.deepEqual(runHealthScript(script, ready), { status: 'Healthy', message: 'ready with 3 items' });
  assert.equal(runHealthScript(script, { ...ready, status: {} }).status, 'Progressing');
  assert.throws(() => runHealthScript('return os.execute("true")', ready), /os/);
  assert.throws(() => runHealthScript('while true do end', ready), /instruction budget/);

  const checks = new LuaHealthChecks(createLogger('silent'));
  checks.load({ 'resource.customizations.health.example.com_Thing': script });
  assert.equal(checks.check(ready)?.status, 'Healthy');
  assert.equal(checks.check({ ...ready, kind: 'Other' }), undefined);
});
