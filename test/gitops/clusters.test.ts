import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource } from '../../src/api/types.js';
import { parseClusterSecret } from '../../src/gitops/clusters.js';
import { destinationPermitted } from '../../src/gitops/project.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
function secret(data: Record<string, string>, type = 'cluster'): Resource {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'edge-cluster', namespace: 'argocd', labels: { 'argocd.argoproj.io/secret-type': type } }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) };
}

test('a cluster Secret gives the name, server, token and namespaced mode', () => {
  const c = parseClusterSecret(secret({ name: 'edge', server: 'http://10.0.0.5:7007/k8s/', config: JSON.stringify({ bearerToken: 't0ken', tlsClientConfig: { insecure: false } }), namespaces: 'shop, web', clusterResources: 'true' }));
  assert.deepEqual(c, { secret: 'argocd/edge-cluster', name: 'edge', server: 'http://10.0.0.5:7007/k8s', bearerToken: 't0ken', namespaces: ['shop', 'web'], clusterResources: true });
  assert.equal(parseClusterSecret(secret({ url: 'https://git.example.com' }, 'repository')), undefined);
  // TLS settings do not apply to a plain-HTTP server
  assert.equal(parseClusterSecret(secret({ name: 'e', server: 'http://e:1', config: JSON.stringify({ tlsClientConfig: { caData: 'Q0E=' } }) }))?.problem, undefined);
});

test('a cluster Secret Pave cannot honour names the field, and never quotes the config', () => {
  const bad = parseClusterSecret(secret({ name: 'edge', server: 'https://edge:6443', config: '{"bearerToken": "s3cret-token", oops' }));
  assert.equal(bad?.problem, 'data.config is not valid JSON');
  assert.doesNotMatch(JSON.stringify(bad), /s3cret-token/);
  assert.match(parseClusterSecret(secret({ name: 'edge', config: '{}' }))?.problem ?? '', /data\.server is required/);
  assert.match(parseClusterSecret(secret({ name: 'edge', server: 'https://edge:6443', config: JSON.stringify({ username: 'u', password: 'p' }) }))?.problem ?? '', /username\/password: basic authentication is not supported/);
  assert.match(parseClusterSecret(secret({ name: 'edge', server: 'https://edge:6443', config: JSON.stringify({ bearerToken: 't', tlsClientConfig: { caData: 'Q0E=' } }) }))?.problem ?? '', /tlsClientConfig\.caData is not supported/);
  assert.match(parseClusterSecret(secret({ name: 'edge', server: 'https://edge:6443', config: JSON.stringify({ bearerToken: 't', tlsClientConfig: { insecure: true } }) }))?.problem ?? '', /tlsClientConfig\.insecure is not supported/);
});

test('an AppProject destination matches a cluster by server or by name, and by namespace', () => {
  const project = (destinations: object[]): Resource => ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'AppProject', metadata: { name: 'p' }, spec: { destinations } });
  const edge = { server: 'http://10.0.0.5:7007/k8s', name: 'edge', namespace: 'shop' };
  assert.ok(destinationPermitted(project([{ name: 'edge', namespace: 'shop' }]), edge));
  assert.ok(destinationPermitted(project([{ server: 'http://10.0.0.5:*', namespace: '*' }]), edge));
  assert.ok(destinationPermitted(project([{ name: 'edge*', server: 'https://elsewhere', namespace: 's*' }]), edge));
  assert.ok(!destinationPermitted(project([{ name: 'edge', namespace: 'web' }]), edge));
  assert.ok(!destinationPermitted(project([{ server: 'https://kubernetes.default.svc', namespace: '*' }]), edge));
  assert.ok(!destinationPermitted(project([{ name: 'in-cluster', namespace: '*' }]), edge));
  assert.ok(destinationPermitted(project([{ name: 'in-cluster', namespace: '*' }]), { server: 'https://kubernetes.default.svc', name: 'in-cluster', namespace: 'default' }));
});
