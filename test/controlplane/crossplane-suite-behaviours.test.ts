import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Resource } from '../../src/api/types.js';
import { NOP_API } from '../../src/providers/nop/index.js';
import { eventually } from '../support/platform.js';
import { startControlPlane, yamlDocs } from './fixtures.js';

/**
 * The behaviours Crossplane's own end-to-end suite asserts of claims and cluster-scoped XRs (the
 * v1 APIs), one `describe` per case of that suite, on YAML of the same shape: what flows from a
 * claim to its XR and back, binding a claim to an XR that exists, composition selection, an XR
 * without a claim, a composition change reaching its XRs, a composed resource the API refuses.
 */
const API = 'gadgets.example.org/v1alpha1';
const XRD_API = 'apiextensions.crossplane.io/v1';

const setup = `
apiVersion: apiextensions.crossplane.io/v1
kind: CompositeResourceDefinition
metadata: {name: xgadgets.gadgets.example.org}
spec:
  group: gadgets.example.org
  names: {kind: XGadget, plural: xgadgets}
  claimNames: {kind: Gadget, plural: gadgets}
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
              motto: {type: string}
              digits: {type: array, items: {type: string}}
              parameters:
                type: object
                properties:
                  tags: {type: object, additionalProperties: {type: string}}
            required: [motto]
          status:
            type: object
            properties:
              slogan: {type: string}
---
apiVersion: pkg.crossplane.io/v1
kind: Function
metadata: {name: fn-canned}
spec: {package: xpkg.crossplane.io/crossplane-contrib/function-dummy:v0.4.1}
---
apiVersion: pkg.crossplane.io/v1
kind: Function
metadata: {name: fn-ready}
spec: {package: xpkg.crossplane.io/crossplane-contrib/function-auto-ready:v0.7.0}
`;

/** A pipeline composition whose XRs get status.slogan and one provider-nop resource, Ready at once. */
function gadgetComposition(name: string, slogan: string, labels: Record<string, string> = {}): string {
  return `
apiVersion: apiextensions.crossplane.io/v1
kind: Composition
metadata:
  name: ${name}
  labels: ${JSON.stringify(labels)}
spec:
  compositeTypeRef: {apiVersion: ${API}, kind: XGadget}
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
              status: {slogan: "${slogan}"}
          resources:
            widget:
              resource:
                apiVersion: nop.crossplane.io/v1alpha1
                kind: NopResource
                spec:
                  forProvider:
                    conditionAfter:
                    - {conditionType: Ready, conditionStatus: "True", time: 0s}
  - step: readiness
    functionRef: {name: fn-ready}
`;
}

function gadget(name: string, spec: Record<string, unknown>, meta: Record<string, unknown> = {}): Resource {
  return { apiVersion: API, kind: 'Gadget', metadata: { name, namespace: 'default', ...meta }, spec: { compositeDeletePolicy: 'Foreground', ...spec } };
}

describe("Crossplane's end-to-end suite: claims and cluster-scoped XRs", () => {
  let cp: Awaited<ReturnType<typeof startControlPlane>>;
  const claimOf = (name: string) => cp.get(API, 'Gadget', name, 'default');
  const xrOfClaim = async (name: string) => {
    const c = await eventually(async () => (await claimOf(name))?.spec?.resourceRef?.name && claimOf(name), 10_000, `${name} bound`);
    return eventually(() => cp.get(API, 'XGadget', c.spec.resourceRef.name), 10_000, `XR of ${name}`);
  };
  /** The object's resourceVersion now and after `ms`: equal when nothing kept rewriting it. */
  const settles = async (get: () => Promise<Resource | undefined>, ms = 1500) => {
    const before = (await get())?.metadata.resourceVersion;
    await new Promise((r) => setTimeout(r, ms));
    return [before, (await get())?.metadata.resourceVersion];
  };

  before(async () => {
    cp = await startControlPlane();
    await cp.apply(yamlDocs(setup));
    await eventually(async () => cp.condition(await cp.get(XRD_API, 'CompositeResourceDefinition', 'xgadgets.gadgets.example.org'), 'Offered')?.status === 'True', 10_000, 'Offered');
    await cp.apply(yamlDocs(gadgetComposition('gadget-plain', 'plain and simple')));
    await cp.apply(yamlDocs(gadgetComposition('gadget-staging-eu', 'staging in the EU', { environment: 'staging', region: 'eu' })));
    await cp.apply(yamlDocs(gadgetComposition('gadget-staging-us', 'staging in the US', { environment: 'staging', region: 'us' })));
  });
  after(async () => cp.p.close());

  describe('legacy-propagate-field-removals', () => {
    it('removes from the XR the labels, annotations and spec fields removed from the claim, and then leaves both alone', async () => {
      await cp.apply([
        gadget('shrinking', { compositionRef: { name: 'gadget-plain' }, motto: 'keep it', digits: ['one', 'three'], parameters: { tags: { team: 'red', extra: 'yes' } } }, {
          labels: { keep: '1', drop: '2' },
          annotations: { 'example.org/keep': '1', 'example.org/drop': '2' },
        }),
      ]);
      await cp.waitReady(API, 'Gadget', 'shrinking', 'default');
      const xrName = (await xrOfClaim('shrinking')).metadata.name!;
      assert.equal((await cp.get(API, 'XGadget', xrName))!.metadata.labels?.drop, '2');

      await cp.apply([
        gadget('shrinking', { compositionRef: { name: 'gadget-plain' }, motto: 'keep it', digits: ['one', 'five'], parameters: { tags: { team: 'red' } } }, {
          labels: { keep: '1', added: '3' },
          annotations: { 'example.org/keep': '1', 'example.org/added': '4' },
        }),
      ]);
      const xr = await eventually(async () => {
        const o = await cp.get(API, 'XGadget', xrName);
        return o?.spec.digits?.[1] === 'five' && o.metadata.labels?.added === '3' && o.metadata.annotations?.['example.org/added'] === '4' ? o : undefined;
      }, 10_000, 'the update on the XR');
      assert.equal(xr.metadata.labels?.keep, '1');
      assert.equal(xr.metadata.labels?.drop, undefined, 'a label removed from the claim');
      assert.equal(xr.metadata.annotations?.['example.org/keep'], '1');
      assert.equal(xr.metadata.annotations?.['example.org/drop'], undefined, 'an annotation removed from the claim');
      assert.equal(xr.metadata.labels?.['crossplane.io/claim-name'], 'shrinking', "Crossplane's own labels stay");
      assert.deepEqual(xr.spec.digits, ['one', 'five']);
      assert.deepEqual(xr.spec.parameters.tags, { team: 'red' });
      const [claimBefore, claimAfter] = await settles(() => claimOf('shrinking'));
      assert.equal(claimAfter, claimBefore, 'the claim is not rewritten over and over');
      const [xrBefore, xrAfter] = await settles(() => cp.get(API, 'XGadget', xrName));
      assert.equal(xrAfter, xrBefore, 'the XR is not rewritten over and over');
    });

    it('keeps a label set on the XR by someone other than the claim', async () => {
      await cp.apply([gadget('labelled-xr', { compositionRef: { name: 'gadget-plain' }, motto: 'mine' }, { labels: { owner: 'claim' } })]);
      const xrName = (await xrOfClaim('labelled-xr')).metadata.name!;
      await cp.p.client.patch({ apiVersion: API, kind: 'XGadget', name: xrName }, 'merge', { metadata: { labels: { 'ops.example.org/audited': 'yes' } } });
      await cp.apply([gadget('labelled-xr', { compositionRef: { name: 'gadget-plain' }, motto: 'mine' }, { labels: {} })]);
      const xr = await eventually(async () => {
        const o = await cp.get(API, 'XGadget', xrName);
        return o && !o.metadata.labels?.owner ? o : undefined;
      }, 10_000, 'the claim label removed from the XR');
      assert.equal(xr.metadata.labels?.['ops.example.org/audited'], 'yes');
    });
  });

  describe('legacy-bind-existing-xr', () => {
    it('binds a claim to an XR made without one, which takes the claim spec and goes with the claim', async () => {
      await cp.apply([{ apiVersion: API, kind: 'XGadget', metadata: { name: 'made-first' }, spec: { compositionRef: { name: 'gadget-plain' }, motto: 'set on the XR' } }]);
      await cp.waitReady(API, 'XGadget', 'made-first');
      assert.equal((await cp.get(API, 'XGadget', 'made-first'))!.spec.motto, 'set on the XR');

      await cp.apply([gadget('adopter', { resourceRef: { apiVersion: API, kind: 'XGadget', name: 'made-first' }, motto: 'set on the claim' })]);
      await cp.waitReady(API, 'Gadget', 'adopter', 'default');
      const xr = (await cp.get(API, 'XGadget', 'made-first'))!;
      assert.equal(xr.spec.claimRef?.name, 'adopter');
      assert.equal(xr.spec.motto, 'set on the claim');
      assert.equal((await claimOf('adopter'))!.status?.slogan, 'plain and simple');

      await cp.p.client.delete({ apiVersion: API, kind: 'Gadget', name: 'adopter', namespace: 'default' });
      await eventually(async () => !(await claimOf('adopter')) && !(await cp.get(API, 'XGadget', 'made-first')), 15_000, 'claim and XR deleted');
    });
  });

  describe('composition-selection', () => {
    it('copies the selector to the XR, shows the composition chosen on the claim, and keeps it when the selector narrows', async () => {
      await cp.apply([gadget('picky', { compositionSelector: { matchLabels: { environment: 'staging', region: 'us' } }, motto: 'choose' })]);
      await cp.waitReady(API, 'Gadget', 'picky', 'default');
      let xr = await xrOfClaim('picky');
      assert.deepEqual(xr.spec.compositionSelector.matchLabels, { environment: 'staging', region: 'us' });
      assert.equal(xr.spec.compositionRef?.name, 'gadget-staging-us');
      assert.equal((await claimOf('picky'))!.spec.compositionRef?.name, 'gadget-staging-us');

      await cp.apply([gadget('picky', { compositionSelector: { matchLabels: { environment: 'staging' } }, motto: 'choose' })]);
      xr = await eventually(async () => {
        const o = await cp.get(API, 'XGadget', xr.metadata.name!);
        return o && !o.spec.compositionSelector.matchLabels.region ? o : undefined;
      }, 10_000, 'the narrowed selector on the XR');
      assert.deepEqual(xr.spec.compositionSelector.matchLabels, { environment: 'staging' });
      assert.equal(xr.spec.compositionRef?.name, 'gadget-staging-us', 'the XR keeps its composition');
      await new Promise((r) => setTimeout(r, 500));
      const claim = (await claimOf('picky'))!;
      assert.equal(claim.spec.compositionRef?.name, 'gadget-staging-us');
      assert.deepEqual(claim.spec.compositionSelector.matchLabels, { environment: 'staging' }, 'the old selector does not come back to the claim');
    });
  });

  describe('basic-cluster', () => {
    it('composes an XR without a claim: Available, ReconcileSuccess, its status field; deleted with what it composed', async () => {
      await cp.apply([{ apiVersion: API, kind: 'XGadget', metadata: { name: 'loner' }, spec: { compositionRef: { name: 'gadget-plain' }, motto: 'alone' } }]);
      const xr = await cp.waitReady(API, 'XGadget', 'loner');
      assert.equal(cp.condition(xr, 'Ready')?.reason, 'Available');
      assert.equal(cp.condition(xr, 'Synced')?.status, 'True');
      assert.equal(cp.condition(xr, 'Synced')?.reason, 'ReconcileSuccess');
      assert.equal(xr.status.slogan, 'plain and simple');
      await cp.p.client.delete({ apiVersion: API, kind: 'XGadget', name: 'loner' }, { propagationPolicy: 'Foreground' });
      await eventually(async () => {
        const left = (await cp.p.client.list(NOP_API, 'NopResource', { labelSelector: 'crossplane.io/composite=loner' })).items;
        return !(await cp.get(API, 'XGadget', 'loner')) && left.length === 0;
      }, 15_000, 'the XR and its resource deleted');
    });
  });

  describe('realtime-revision-selection', () => {
    it('brings a composition change to the claim within seconds', async () => {
      await cp.apply(yamlDocs(gadgetComposition('gadget-evolving', 'first draft')));
      await cp.apply([gadget('follower', { compositionRef: { name: 'gadget-evolving' }, motto: 'follow' })]);
      await cp.waitReady(API, 'Gadget', 'follower', 'default');
      assert.equal((await claimOf('follower'))!.status.slogan, 'first draft');
      await cp.apply(yamlDocs(gadgetComposition('gadget-evolving', 'second draft')));
      await eventually(async () => (await claimOf('follower'))?.status?.slogan === 'second draft', 10_000, 'the new slogan on the claim');
    });
  });
});

const nested = `
apiVersion: apiextensions.crossplane.io/v1
kind: CompositeResourceDefinition
metadata: {name: xshelves.shelves.example.org}
spec:
  group: shelves.example.org
  names: {kind: XShelf, plural: xshelves}
  defaultCompositionRef: {name: shelf}
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
              boards: {type: integer}
          status:
            type: object
            properties:
              label: {type: string}
---
apiVersion: apiextensions.crossplane.io/v1
kind: CompositeResourceDefinition
metadata: {name: xboards.shelves.example.org}
spec:
  group: shelves.example.org
  names: {kind: XBoard, plural: xboards}
  defaultCompositionRef: {name: board}
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
              boards: {type: integer, minimum: 3}
---
apiVersion: apiextensions.crossplane.io/v1
kind: Composition
metadata: {name: shelf}
spec:
  compositeTypeRef: {apiVersion: shelves.example.org/v1alpha1, kind: XShelf}
  resources:
  - name: board
    base:
      apiVersion: shelves.example.org/v1alpha1
      kind: XBoard
      spec: {}
    patches:
    - fromFieldPath: spec.boards
      toFieldPath: spec.boards
  - name: bracket
    base:
      apiVersion: nop.crossplane.io/v1alpha1
      kind: NopResource
      metadata:
        annotations: {shelves.example.org/label: oak}
      spec:
        forProvider:
          conditionAfter:
          - {conditionType: Ready, conditionStatus: "True", time: 0s}
    patches:
    - type: ToCompositeFieldPath
      fromFieldPath: metadata.annotations[shelves.example.org/label]
      toFieldPath: status.label
---
apiVersion: apiextensions.crossplane.io/v1
kind: Composition
metadata: {name: board}
spec:
  compositeTypeRef: {apiVersion: shelves.example.org/v1alpha1, kind: XBoard}
  resources:
  - name: plank
    base:
      apiVersion: nop.crossplane.io/v1alpha1
      kind: NopResource
      spec: {forProvider: {}}
`;

describe("Crossplane's end-to-end suite: invalid-composed", () => {
  let cp: Awaited<ReturnType<typeof startControlPlane>>;
  const SHELVES = 'shelves.example.org/v1alpha1';
  before(async () => {
    cp = await startControlPlane();
    await cp.apply(yamlDocs(nested));
    await eventually(async () => cp.condition(await cp.get(XRD_API, 'CompositeResourceDefinition', 'xboards.shelves.example.org'), 'Established')?.status === 'True', 10_000, 'Established');
  });
  after(async () => cp.p.close());

  it('applies the other composed resources when the API refuses one, and says which one on the XR', async () => {
    await cp.apply([{ apiVersion: SHELVES, kind: 'XShelf', metadata: { name: 'wobbly' }, spec: { boards: 1 } }]);
    const xr = await eventually(async () => {
      const o = await cp.get(SHELVES, 'XShelf', 'wobbly');
      return o?.status?.label === 'oak' && cp.condition(o, 'Synced')?.status === 'False' ? o : undefined;
    }, 15_000, 'the bracket composed and patched back, and Synced=False');
    assert.match(cp.condition(xr, 'Synced')?.message ?? '', /"board".*spec\.boards/);
    const brackets = (await cp.p.client.list(NOP_API, 'NopResource', { labelSelector: 'crossplane.io/composite=wobbly' })).items;
    assert.equal(brackets.length, 1);
    assert.equal((await cp.p.client.list(SHELVES, 'XBoard')).items.length, 0);
    const events = (await cp.p.client.list('v1', 'Event', { namespace: 'default' })).items as Resource[];
    assert.ok(events.some((e) => e.involvedObject?.name === 'wobbly' && e.type === 'Warning' && /board/.test(e.message)), 'a Warning Event names the refused resource');

    // once the value is valid the XR composes it and is Synced again
    await cp.p.client.patch({ apiVersion: SHELVES, kind: 'XShelf', name: 'wobbly' }, 'merge', { spec: { boards: 4 } });
    await eventually(async () => cp.condition(await cp.get(SHELVES, 'XShelf', 'wobbly'), 'Synced')?.status === 'True', 15_000, 'Synced again');
    assert.equal((await cp.p.client.list(SHELVES, 'XBoard')).items.length, 1);
  });
});

describe("Crossplane's end-to-end suite: composition and XRD validation", () => {
  let cp: Awaited<ReturnType<typeof startControlPlane>>;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => cp.p.close());

  const composition = (spec: Record<string, unknown>): Resource => ({
    apiVersion: XRD_API,
    kind: 'Composition',
    metadata: { name: 'checked' },
    spec: { compositeTypeRef: { apiVersion: 'checks.example.org/v1', kind: 'XCheck' }, ...spec },
  });
  const refused = async (o: Resource, field: RegExp) => {
    const e = await cp.p.client.create(o).then(
      () => undefined,
      (err: Error & { code?: number }) => err,
    );
    assert.ok(e, `${o.kind} was accepted`);
    assert.equal(e.code, 422);
    assert.match(e.message, field);
  };

  it('refuses a Pipeline composition without steps, and a Secret credential without secretRef', async () => {
    await refused(composition({ mode: 'Pipeline' }), /pipeline/);
    await refused(composition({ mode: 'Pipeline', pipeline: [] }), /pipeline/);
    await refused(composition({ mode: 'Pipeline', pipeline: [{ step: 'one', functionRef: { name: 'fn' }, credentials: [{ name: 'creds', source: 'Secret' }] }] }), /secretRef/);
    await cp.p.client.create(composition({ mode: 'Pipeline', pipeline: [{ step: 'one', functionRef: { name: 'fn' }, credentials: [{ name: 'none', source: 'None' }] }] }));
  });

  it('refuses an XRD whose plural names are not lowercase', async () => {
    const xrd = (claimPlural: string): Resource => ({
      apiVersion: XRD_API,
      kind: 'CompositeResourceDefinition',
      metadata: { name: 'xchecks.checks.example.org' },
      spec: {
        group: 'checks.example.org',
        names: { kind: 'XCheck', plural: 'xchecks' },
        claimNames: { kind: 'Check', plural: claimPlural },
        versions: [{ name: 'v1', served: true, referenceable: true, schema: { openAPIV3Schema: { type: 'object' } } }],
      },
    });
    await refused(xrd('Checks'), /claimNames\.plural/);
    await cp.p.client.create(xrd('checks'));
  });

  it('refuses a change to an XRD\'s group or names and a Composition\'s XR type, and duplicate step names', async () => {
    const get = (kind: string, name: string) => cp.p.client.get({ apiVersion: XRD_API, kind, name });
    const changed = async (o: Resource, field: RegExp) => {
      const e = await cp.p.client.update(o).then(
        () => undefined,
        (err: Error & { code?: number }) => err,
      );
      assert.ok(e, `the change to ${o.kind} ${o.metadata.name} was accepted`);
      assert.equal(e.code, 422);
      assert.match(e.message, field);
    };
    const xrd = await get('CompositeResourceDefinition', 'xchecks.checks.example.org');
    await changed({ ...xrd, spec: { ...xrd.spec, group: 'other.example.org' } }, /spec\.group: Invalid value: "string": Value is immutable/);
    await changed({ ...xrd, spec: { ...xrd.spec, names: { kind: 'XCheck', plural: 'xcheckz' } } }, /spec\.names: .*Value is immutable/);
    const steps = [{ step: 'one', functionRef: { name: 'fn' } }];
    await refused({ ...composition({ mode: 'Pipeline', pipeline: [...steps, { step: 'one', functionRef: { name: 'other' } }] }), metadata: { name: 'twice' } }, /spec\.pipeline\[1\]: Duplicate value: \{"step":"one"\}/);
    const comp = await get('Composition', 'checked');
    await changed({ ...comp, spec: { ...comp.spec, compositeTypeRef: { apiVersion: 'checks.example.org/v1', kind: 'XOther' } } }, /spec\.compositeTypeRef: .*Value is immutable/);
    // what may change still does
    await cp.p.client.update({ ...comp, spec: { ...comp.spec, pipeline: [...steps, { step: 'two', functionRef: { name: 'fn' } }] } });
  });
});
