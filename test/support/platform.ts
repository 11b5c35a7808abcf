import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/api/log.js';
import type { Resource } from '../../src/api/types.js';
import { Platform, type PlatformOptions } from '../../src/platform.js';

/**
 * A Platform on a fresh temporary data directory and a free port; `close` removes both.
 * No feature modules unless the test names them: a test of the API should not start a database.
 */
export async function startPlatform(opts: Partial<PlatformOptions> = {}): Promise<Platform & { close(): Promise<void> }> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'pave-test-'));
  const p = new Platform({ dataDir, port: 0, log: createLogger(process.env.PAVE_TEST_LOG ?? 'silent'), modules: [], ...opts }) as Platform & { close(): Promise<void> };
  await p.start();
  p.close = async () => {
    // a close that hangs holds its test file until the runner's time limit: say what it waits for
    const slow = setInterval(() => process.stderr.write(`the platform under test is still stopping: waiting for ${p.stoppingFor() ?? 'nothing it names'}\n`), 30_000).unref();
    try {
      await p.stop();
    } finally {
      clearInterval(slow);
    }
    if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  return p;
}

/**
 * `url` of a server listening on 0.0.0.0, as another machine would reach it: through this
 * machine's first non-loopback IPv4 address, so that the server sees a peer that is not local.
 */
export function fromNetwork(url: string): string {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  if (!address) throw new Error('this test needs a network interface other than loopback, to call Pave as another machine would');
  const u = new URL(url);
  u.hostname = address;
  return u.origin;
}

export function tempDir(prefix = 'pave-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Polls `check` until it returns a truthy value or the timeout passes. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const widgetCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd'] },
    scope: 'Namespaced',
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [{ name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' }],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', required: ['size'], properties: { size: { type: 'integer', minimum: 1 }, color: { type: 'string', default: 'blue' } } },
              status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
      },
    ],
  },
};

export function widget(name: string, size = 1, labels?: Record<string, string>): Resource {
  return { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name, namespace: 'default', ...(labels ? { labels } : {}) }, spec: { size } };
}
