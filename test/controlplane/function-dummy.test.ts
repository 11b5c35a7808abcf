import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import type { Resource } from '../../src/api/types.js';
import { dummy } from '../../src/controlplane/functions/dummy.js';
import { render } from '../../src/controlplane/offline.js';

/** function-dummy as Crossplane's own tests use it: a pipeline step that returns a written response. */

const xr = parse(`
apiVersion: acme.example/v1
kind: XBucket
metadata: {name: logs, uid: 7c0f}
spec: {region: north}
status: {keep: me}
`) as Resource;

const functions = parseAllDocuments(`
apiVersion: pkg.crossplane.io/v1beta1
kind: Function
metadata: {name: canned}
spec: {package: xpkg.crossplane.io/crossplane-contrib/function-dummy:v0.4.1}
---
apiVersion: pkg.crossplane.io/v1
kind: Function
metadata: {name: readiness}
spec: {package: xpkg.upbound.io/crossplane-contrib/function-auto-ready:v0.7.0}
`).map((d) => d.toJS() as Resource);

const composition = (response: string) =>
  parse(`
apiVersion: apiextensions.crossplane.io/v1
kind: Composition
metadata: {name: buckets}
spec:
  compositeTypeRef: {apiVersion: acme.example/v1, kind: XBucket}
  mode: Pipeline
  pipeline:
  - step: canned-answer
    functionRef: {name: canned}
    input:
      apiVersion: dummy.fn.crossplane.io/v1beta1
      kind: Response
      response:
${response
  .trim()
  .split('\n')
  .map((l) => `        ${l}`)
  .join('\n')}
  - step: readiness
    functionRef: {name: readiness}
`) as Resource;

describe('function-dummy (built in)', () => {
  it('lays the written response over the desired state: XR status, composed resources, results and connection details', async () => {
    const out = await render({
      composite: xr,
      functions,
      composition: composition(`
desired:
  composite:
    resource:
      status: {colour: blue}
  resources:
    store:
      resource:
        apiVersion: nop.crossplane.io/v1alpha1
        kind: NopResource
        spec: {forProvider: {fields: {tier: hot}}}
      ready: READY_TRUE
results:
- severity: SEVERITY_NORMAL
  message: composed by hand
`),
    });
    assert.equal(out.fatal, undefined);
    const [composite, ...composed] = out.objects;
    assert.equal(composite!.status.colour, 'blue');
    assert.deepEqual(
      composed.map((o) => [o.kind, o.metadata.annotations?.['crossplane.io/composition-resource-name'], o.spec.forProvider.fields.tier]),
      [['NopResource', 'store', 'hot']],
    );
    assert.equal(composite!.status.conditions.find((c: { type: string }) => c.type === 'Ready')?.status, 'True');
    assert.deepEqual(
      out.results.map((r) => [r.step, r.severity, r.message]),
      [['canned-answer', 'SEVERITY_NORMAL', 'composed by hand']],
    );
    // connection details are bytes in a RunFunctionResponse: written in base64, read as text
    const step = composition('desired: {composite: {connectionDetails: {token: c2VjcmV0LXRva2Vu}}}').spec.pipeline[0].input;
    const answer = await dummy().run({ observed: { composite: { resource: xr }, resources: {} }, desired: { composite: { resource: { apiVersion: xr.apiVersion, kind: xr.kind, metadata: {} }, connectionDetails: { kept: 'yes' } }, resources: {} }, input: step, context: {} });
    assert.deepEqual(answer.desired?.composite.connectionDetails, { kept: 'yes', token: 'secret-token' });
  });

  it('fails the pipeline, naming the step, when the input has no response', async () => {
    const comp = composition('{}');
    delete comp.spec.pipeline[0].input.response;
    const out = await render({ composite: xr, functions, composition: comp });
    assert.match(out.fatal ?? '', /canned-answer.*input\.response must be a RunFunctionResponse/);
  });
});
