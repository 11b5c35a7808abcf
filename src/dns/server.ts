import { createSocket } from 'node:dgram';
import { createServer as createTcpServer } from 'node:net';
import dns2 from 'dns2';
import type { Logger } from 'pino';
import { Zone } from './zone.js';

const { Packet } = dns2;
/** RFC 1035 response code for a name that does not exist (dns2's typings omit its RCODE table). */
const NXDOMAIN = 3;

const TYPE_CODES: Record<string, number> = { A: Packet.TYPE.A, AAAA: Packet.TYPE.AAAA, CNAME: Packet.TYPE.CNAME, TXT: Packet.TYPE.TXT };
const TYPE_NAMES = new Map(Object.entries(TYPE_CODES).map(([k, v]) => [v, k]));

/**
 * Pave's authoritative DNS server: answers from its Zone over UDP and TCP on one port
 * (default 5353). Names it does not hold get NXDOMAIN with the authoritative flag; it never
 * recurses. A CNAME held for a name answers queries of any type for that name.
 */
export class DnsServer {
  readonly zone = new Zone();
  private server?: ReturnType<typeof dns2.createServer>;
  port = 0;
  queries = 0;

  constructor(
    private readonly opts: { port?: number; host?: string; log?: Logger } = {},
  ) {}

  async start(): Promise<void> {
    const host = this.opts.host ?? '127.0.0.1';
    const port = this.opts.port ?? 5353;
    this.port = port === 0 ? await freePort(host) : port;
    const server = dns2.createServer({ udp: true, tcp: true, handle: (request, send) => send(this.answer(request)) });
    server.on('requestError', (err: Error) => this.opts.log?.debug({ err: err.message }, 'malformed DNS request'));
    server.on('error', (err: Error, transport: string) => this.opts.log?.warn({ err: err.message, transport }, 'DNS server error'));
    this.server = server;
    // dns2 reports a bind failure as an event and never settles listen(): race the two
    await new Promise<void>((resolve, reject) => {
      const failed = (err: Error) => {
        void server.close().catch(() => undefined);
        this.server = undefined;
        reject(new Error(`the DNS server cannot listen on ${host}:${this.port}: ${err.message}`));
      };
      server.once('error', failed);
      server.listen({ udp: { port: this.port, address: host }, tcp: { port: this.port, address: host } } as never).then(() => {
        server.off('error', failed);
        resolve();
      }, failed);
    });
    this.opts.log?.info({ port: this.port, host }, 'DNS server listening (UDP and TCP)');
  }

  async stop(): Promise<void> {
    this.zone.close();
    await this.server?.close().catch(() => undefined);
    this.server = undefined;
  }

  private answer(request: InstanceType<typeof Packet>): InstanceType<typeof Packet> {
    this.queries++;
    const response = Packet.createResponseFromRequest(request);
    response.header.aa = 1;
    response.header.ra = 0;
    const [question] = request.questions;
    if (!question) return response;
    const type = TYPE_NAMES.get(question.type);
    const found = type ? this.zone.resolve(question.name, type) : undefined;
    if (!found) {
      if (!this.zone.hasName(question.name)) response.header.rcode = NXDOMAIN;
      return response;
    }
    // dns2's typings want encoded resources here; plain records are what its encoder takes.
    const answers = response.answers as unknown as object[];
    for (const target of found.targets) {
      const base = { name: question.name, type: TYPE_CODES[found.type]!, class: Packet.CLASS.IN, ttl: found.ttl };
      if (found.type === 'A' || found.type === 'AAAA') answers.push({ ...base, address: target });
      else if (found.type === 'CNAME') answers.push({ ...base, domain: target });
      else answers.push({ ...base, data: target });
    }
    return response;
  }
}

/** A port free for both UDP and TCP on `host`. */
async function freePort(host: string): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createTcpServer();
      s.once('error', reject);
      s.listen(0, host, () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = createSocket('udp4');
      u.once('error', () => resolve(false));
      u.bind(port, host, () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
}
