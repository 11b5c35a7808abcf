import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import dns2 from 'dns2';
import { controlPlaneModule } from '../../../src/controlplane/index.js';
import { providersModule, providersRuntime } from '../../../src/providers/index.js';
import { eventually, startPlatform } from '../../support/platform.js';

const DNS = 'dns.pave.dev/v1alpha1';

/** An HTTP health endpoint that can be switched off and on like a failing primary. */
async function healthEndpoint(): Promise<{ url: string; server: Server; setUp(up: boolean): void }> {
  let up = true;
  const server = createServer((_req, res) => {
    res.statusCode = up ? 200 : 503;
    res.end(up ? 'ok' : 'down');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/healthz`, server, setUp: (v) => (up = v) };
}

describe('built-in DNS server and Record managed resources', () => {
  let p: Awaited<ReturnType<typeof startPlatform>>;
  let resolver: Resolver;
  let port: number;

  before(async () => {
    p = await startPlatform({ listen: false, modules: [controlPlaneModule(), providersModule()], settings: { 'dns-port': '0' } });
    port = providersRuntime(p)!.dns.port;
    resolver = new Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([`127.0.0.1:${port}`]);
  });

  after(async () => {
    await p.close();
  });

  it('answers A, AAAA, CNAME and TXT over UDP and TCP, and NXDOMAIN for unknown names', async () => {
    const rec = (name: string, forProvider: object) => p.client.create({ apiVersion: DNS, kind: 'Record', metadata: { name }, spec: { forProvider } });
    await rec('web', { name: 'web.pave.test', type: 'A', ttl: 0, targets: ['10.1.0.1', '10.1.0.2'] });
    await rec('web6', { name: 'web.pave.test', type: 'AAAA', ttl: 0, targets: ['fd00::1'] });
    await rec('alias', { name: 'www.pave.test', type: 'CNAME', ttl: 0, targets: ['web.pave.test'] });
    await rec('verify', { name: 'pave.test', type: 'TXT', ttl: 0, targets: ['owner=platform-team'] });

    await eventually(async () => (await resolver.resolve4('web.pave.test').catch(() => [])).length === 2, 10_000, 'A records served');
    assert.deepEqual((await resolver.resolve4('web.pave.test')).sort(), ['10.1.0.1', '10.1.0.2']);
    assert.deepEqual(await resolver.resolve6('web.pave.test'), ['fd00::1']);
    await eventually(async () => (await resolver.resolveCname('www.pave.test').catch(() => []))[0] === 'web.pave.test', 10_000, 'CNAME served');
    await eventually(async () => (await resolver.resolveTxt('pave.test').catch(() => []))[0]?.[0] === 'owner=platform-team', 10_000, 'TXT served');
    await assert.rejects(resolver.resolve4('nothing.pave.test'), (e: NodeJS.ErrnoException) => e.code === 'ENOTFOUND');

    const tcp = dns2.TCPClient({ dns: '127.0.0.1', port });
    const answer = await tcp('web.pave.test', 'A');
    assert.deepEqual(answer.answers.map((a) => (a as { address?: string }).address).sort(), ['10.1.0.1', '10.1.0.2']);

    const web = await p.client.get({ apiVersion: DNS, kind: 'Record', name: 'web' });
    assert.deepEqual([...web.status.atProvider.answers].sort(), ['10.1.0.1', '10.1.0.2']);

    // Deleting the Record stops the answers.
    await p.client.delete({ apiVersion: DNS, kind: 'Record', name: 'web' });
    await eventually(async () => (await resolver.resolve4('web.pave.test').catch((e) => e.code)) === 'ENODATA', 10_000, 'A records withdrawn');
  });

  it('fails over to the secondary within interval × threshold after the primary goes down, and back when it recovers', async () => {
    const primary = await healthEndpoint();
    try {
      const check = { type: 'HTTP', url: primary.url, intervalSeconds: 0.5, failureThreshold: 2 };
      await p.client.create({
        apiVersion: DNS,
        kind: 'Record',
        metadata: { name: 'api' },
        spec: { forProvider: { name: 'api.pave.test', type: 'A', ttl: 0, failover: { primary: { targets: ['10.0.0.1'], healthCheck: check }, secondary: { targets: ['10.0.0.2'] } } } },
      });
      await eventually(async () => (await resolver.resolve4('api.pave.test').catch(() => []))[0] === '10.0.0.1', 10_000, 'primary answered');

      primary.setUp(false);
      const down = Date.now();
      await eventually(async () => (await resolver.resolve4('api.pave.test'))[0] === '10.0.0.2', 5000, 'secondary answered');
      const failover = Date.now() - down;
      assert.ok(failover <= 0.5 * 2 * 1000 + 1000, `failover took ${failover} ms`);

      primary.setUp(true);
      await eventually(async () => (await resolver.resolve4('api.pave.test'))[0] === '10.0.0.1', 5000, 'primary answered again');
    } finally {
      primary.server.close();
    }
  });

  it('spreads weighted answers by weight and skips an unhealthy entry', async () => {
    await p.client.create({
      apiVersion: DNS,
      kind: 'Record',
      metadata: { name: 'canary' },
      spec: { forProvider: { name: 'canary.pave.test', type: 'A', ttl: 0, weighted: [{ targets: ['10.2.0.1'], weight: 3 }, { targets: ['10.2.0.2'], weight: 1 }, { targets: ['10.2.0.3'], weight: 5, healthCheck: { type: 'TCP', host: '127.0.0.1', port: 1, intervalSeconds: 0.2, failureThreshold: 1 } }] } },
    });
    await eventually(async () => (await resolver.resolve4('canary.pave.test').catch(() => [])).length === 1, 10_000, 'weighted answers');
    await new Promise((r) => setTimeout(r, 500)); // the TCP check on port 1 fails at once
    const counts = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const [a] = await resolver.resolve4('canary.pave.test');
      counts.set(a!, (counts.get(a!) ?? 0) + 1);
    }
    assert.equal(counts.get('10.2.0.3') ?? 0, 0, 'the unhealthy entry is never answered');
    const share = (counts.get('10.2.0.1') ?? 0) / 400;
    assert.ok(share > 0.6 && share < 0.9, `weight 3 of 4 answered ${share * 100}% of the time`);
  });

  it('rejects a Record whose targets do not fit its type, naming the field', async () => {
    await p.client.create({ apiVersion: DNS, kind: 'Record', metadata: { name: 'bad' }, spec: { forProvider: { name: 'bad.pave.test', type: 'A', targets: ['not-an-ip'] } } });
    const synced = await eventually(async () => {
      const r = await p.client.get({ apiVersion: DNS, kind: 'Record', name: 'bad' });
      return r.status?.conditions?.find((c: { type: string; status: string }) => c.type === 'Synced' && c.status === 'False');
    }, 10_000, 'Synced=False');
    assert.match(synced.message, /spec\.forProvider\.targets: "not-an-ip" is not an IPv4 address/);
  });
});
