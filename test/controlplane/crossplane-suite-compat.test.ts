import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Resource } from '../../src/api/types.js';
import { NOP_API } from '../../src/providers/nop/index.js';
import { eventually } from '../support/platform.js';
import { startControlPlane, yamlDocs } from './fixtures.js';

/**
 * The shape of Crossplane's own end-to-end suite: a claim whose composition composes a nested XR
 * through function-dummy, whose own composition composes a provider-nop resource that becomes
 * Ready on a schedule, with a pipeline step reading credentials from crossplane-system and
 * Function objects of both package API versions. Nothing here is Pave-specific YAML.
 */
const setup = `
apiVersion: apiextensions.crossplane.io/v1
kind: CompositeResourceDefinition
metadata: {name: xwidgets.toys.example.org}
spec:
  group: toys.example.org
  names: {kind: XWidget, plural: xwidgets}
  claimNames: {kind: Widget, plural: widgets}
  connectionSecretKeys: [super]
  versions:
  - name: v1alpha1
    served: true
    referenceable: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              shade: {type: string}
            required: [shade]
          status:
            type: object
            properties:
              glow: {type: string}
---
apiVersion: apiextensions.crossplane.io/v1
kind: Composition
metadata: {name: outer}
spec:
  compositeTypeRef: {apiVersion: toys.example.org/v1alpha1, kind: XWidget}
  mode: Pipeline
  pipeline:
  - step: canned
    functionRef: {name: fn-canned}
    input:
      apiVersion: dummy.fn.crossplane.io/v1beta1
      kind: Response
      response:
        desired:
          composite:
            resource:
              status: {glow: bright}
          resources:
            inner-widget:
              resource:
                apiVersion: toys.example.org/v1alpha1
                kind: XWidget
                spec:
                  compositionRef: {name: inner}
                  shade: teal
        results:
        - severity: SEVERITY_NORMAL
          message: outer composed
    credentials:
    - name: creds
      source: Secret
      secretRef: {namespace: crossplane-system, name: toy-secret}
  - step: readiness
    functionRef: {name: fn-ready}
---
apiVersion: apiextensions.crossplane.io/v1
kind: Composition
metadata: {name: inner}
spec:
  compositeTypeRef: {apiVersion: toys.example.org/v1alpha1, kind: XWidget}
  mode: Pipeline
  pipeline:
  - step: canned
    functionRef: {name: fn-canned}
    input:
      apiVersion: dummy.fn.crossplane.io/v1beta1
      kind: Response
      response:
        desired:
          composite:
            resource:
              status: {glow: dim}
          resources:
            nop-one:
              resource:
                apiVersion: nop.crossplane.io/v1alpha1
                kind: NopResource
                spec:
                  forProvider:
                    conditionAfter:
                    - {conditionType: Ready, conditionStatus: "False", time: 0s}
                    - {conditionType: Ready, conditionStatus: "True", time: 1s}
  - step: readiness
    functionRef: {name: fn-ready}
---
apiVersion: pkg.crossplane.io/v1beta1
kind: Function
metadata: {name: fn-canned}
spec: {package: xpkg.crossplane.io/crossplane-contrib/function-dummy:v0.4.1}
---
apiVersion: pkg.crossplane.io/v1
kind: Function
metadata: {name: fn-ready}
spec: {package: xpkg.upbound.io/crossplane-contrib/function-auto-ready:v0.7.0}
---
apiVersion: v1
kind: Secret
metadata: {namespace: crossplane-system, name: toy-secret}
data: {}
`;

const claim = `
apiVersion: toys.example.org/v1alpha1
kind: Widget
metadata: {namespace: default, name: my-widget}
spec:
  shade: red
  compositionRef: {name: outer}
  compositeDeletePolicy: Foreground
  writeConnectionSecretToRef: {name: widget-secret}
`;

const TOYS = 'toys.example.org/v1alpha1';

describe("Crossplane's end-to-end suite's kind of composition runs unmodified", () => {
  let cp: Awaited<ReturnType<typeof startControlPlane>>;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => cp.p.close());

  it('composes a nested XR and a scheduled provider-nop resource, and the claim becomes Ready with its Secret', async () => {
    await cp.apply(yamlDocs(setup));
    await eventually(() => cp.p.registry.lookup(TOYS, 'Widget'), 10_000, 'the Widget claim type');
    const seen: string[] = [];
    const watch = await cp.p.client.watch(NOP_API, 'NopResource', {}, (e) => {
      const s = cp.condition(e.object, 'Ready')?.status;
      if (s && seen.at(-1) !== s) seen.push(s);
    });
    try {
      await cp.apply(yamlDocs(claim));
      await cp.waitReady(TOYS, 'Widget', 'my-widget', 'default', 30_000);
    } finally {
      watch.stop();
    }
    assert.deepEqual(seen, ['False', 'True'], 'the nop resource follows its conditionAfter');
    const xrs = (await cp.p.client.list(TOYS, 'XWidget')).items;
    const outer = xrs.find((x) => x.spec.compositionRef?.name === 'outer')!;
    const inner = xrs.find((x) => x.spec.compositionRef?.name === 'inner')!;
    assert.deepEqual([outer.status.glow, inner.status.glow, inner.spec.shade], ['bright', 'dim', 'teal']);
    assert.equal(inner.metadata.ownerReferences?.[0]?.uid, outer.metadata.uid);
    const events = (await cp.p.client.list('v1', 'Event', { namespace: 'default' })).items as Resource[];
    assert.ok(events.some((e) => e.involvedObject?.name === outer.metadata.name && /outer composed/.test(e.message)), 'the step result is an Event on the XR');
    // no resource gives connection details: the claim's Secret exists all the same, empty
    const secret = await eventually(() => cp.get('v1', 'Secret', 'widget-secret', 'default'), 10_000, 'the claim Secret');
    assert.deepEqual(secret.data ?? {}, {});
  });

  it('deletes the claim, both XRs and the managed resource', async () => {
    await cp.p.client.delete({ apiVersion: TOYS, kind: 'Widget', name: 'my-widget', namespace: 'default' });
    await eventually(async () => {
      const left = [(await cp.p.client.list(TOYS, 'Widget')).items, (await cp.p.client.list(TOYS, 'XWidget')).items, (await cp.p.client.list(NOP_API, 'NopResource')).items].flat();
      return left.length === 0;
    }, 20_000, 'everything deleted');
  });
});
