import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Resource } from '../../src/api/types.js';
import { startPlatform } from '../support/platform.js';

/**
 * The parts of a CRD's structural schema beyond JSON Schema that CRDs lean on: list types
 * (`x-kubernetes-list-type: set | map`) and the immutability rule `self == oldSelf`.
 */
const gadgetCrd: Resource = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'gadgets.example.com' },
  spec: {
    group: 'example.com',
    names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
    scope: 'Cluster',
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: {
                  region: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'Value is immutable' }] },
                  owner: { type: 'object', properties: { team: { type: 'string' } }, 'x-kubernetes-validations': [{ rule: 'self==oldSelf' }] },
                  tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
                  ports: {
                    type: 'array',
                    'x-kubernetes-list-type': 'map',
                    'x-kubernetes-list-map-keys': ['name'],
                    items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, port: { type: 'integer' } } },
                  },
                  size: { type: 'integer' },
                },
              },
            },
          },
        },
      },
    ],
  },
};

describe('CRD schemas: list types and immutable fields', () => {
  let p: Awaited<ReturnType<typeof startPlatform>>;
  const gadget = (spec: Record<string, unknown>): Resource => ({ apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'g1' }, spec });
  before(async () => {
    p = await startPlatform({ listen: false });
    await p.client.create(gadgetCrd);
  });
  after(async () => p.close());

  it('refuses a duplicate in a set, and two items with the same key in a map, naming the later one', async () => {
    await assert.rejects(p.client.create(gadget({ tags: ['a', 'b', 'a'] })), /spec\.tags\[2\]: Duplicate value: "a"/);
    await assert.rejects(p.client.create(gadget({ ports: [{ name: 'http', port: 80 }, { name: 'grpc', port: 90 }, { name: 'http', port: 8080 }] })), /spec\.ports\[2\]: Duplicate value: \{"name":"http"\}/);
    await p.client.create(gadget({ region: 'eu', owner: { team: 'a' }, tags: ['a', 'b'], ports: [{ name: 'http', port: 80 }, { name: 'grpc', port: 80 }], size: 1 }));
  });

  it('refuses an update that changes a field whose rule is self == oldSelf, and allows the rest', async () => {
    const g = await p.client.get({ apiVersion: 'example.com/v1', kind: 'Gadget', name: 'g1' });
    await assert.rejects(p.client.update({ ...g, spec: { ...g.spec, region: 'us' } }), /spec\.region: Invalid value: "string": Value is immutable/);
    await assert.rejects(p.client.update({ ...g, spec: { ...g.spec, owner: { team: 'b' } } }), /spec\.owner: Invalid value: "object": failed rule: self==oldSelf/);
    const resized = await p.client.update({ ...g, spec: { ...g.spec, size: 2 } });
    assert.equal(resized.spec.size, 2);
    // nothing stored was lost by the refusals
    assert.equal((await p.client.get({ apiVersion: 'example.com/v1', kind: 'Gadget', name: 'g1' })).spec.region, 'eu');
  });
});
