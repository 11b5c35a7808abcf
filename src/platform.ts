import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Admission, ADMIN, ANONYMOUS, SYSTEM, type Authorizer } from './api/admission.js';
import { InProcessClient } from './api/client.js';
import { GarbageCollector } from './api/gc.js';
import type { AnonymousAccess } from './api/http/auth.js';
import { createHttpServer } from './api/http/server.js';
import { ContentCleanup } from './api/lifecycle.js';
import { createLogger, type Logger } from './api/log.js';
import { builtinTypes, TypeRegistry } from './api/registry.js';
import { ResourceService } from './api/service.js';
import { SecretCipher } from './api/store/cipher.js';
import { SqliteStore } from './api/store/sqlite.js';
import { EventExpiry } from './api/event-expiry.js';
import type { Store } from './api/store/store.js';
import { Manager } from './runtime/manager.js';

/** Where Pave listens unless told otherwise: loopback, so that anonymous use is safe by default. */
const DEFAULT_HOST = '127.0.0.1';
/** How long one step of stopping may take before Pave says what it is waiting for (and again each time after). */
const STOP_STEP_WARN_MS = 10_000;

/**
 * A feature module (control plane, delivery, portal, ...). `install` runs before start: it adds
 * controllers to the manager, routes, admission steps; `start`/`stop` run after the API is up
 * and before it goes down, for work that needs the server (loading starter manifests, servers).
 */
export interface PlatformModule {
  name: string;
  install(p: Platform): void | Promise<void>;
  start?(p: Platform): void | Promise<void>;
  stop?(p: Platform): void | Promise<void>;
}

export interface PlatformOptions {
  /** Feature modules to install; defaults to every module in src/modules.ts. */
  modules?: PlatformModule[];
  /** Values for modules, from CLI flags (e.g. `--redis URL`), keyed by option name. */
  settings?: Record<string, string | undefined>;
  dataDir: string;
  port?: number;
  host?: string;
  log?: Logger;
  /** How long Events are kept after they last happened (default an hour, as kube-apiserver's --event-ttl). */
  eventTtlMs?: number;
  /**
   * Whether requests without a token act as admin: true from anywhere, false never; by default
   * only requests from this machine (a loopback peer), for the local web UI, CLI and kubectl
   * (which sends no token over plain HTTP). Other machines need the token.
   */
  allowAnonymous?: boolean;
  /** Skip the HTTP listener (tests and benchmarks that use the in-process client). */
  listen?: boolean;
}

/**
 * The one place that wires Pave's modules together: storage, the resource API, its built-in
 * controllers (garbage collection, namespace and CRD cleanup), the HTTP server and the
 * controller manager that feature modules add their controllers to.
 */
export class Platform {
  readonly log: Logger;
  readonly dataDir: string;
  readonly store: Store;
  readonly registry: TypeRegistry;
  readonly service: ResourceService;
  readonly client: InProcessClient;
  readonly manager: Manager;
  readonly gc: GarbageCollector;
  readonly adminToken: string;
  /** Who may call without a token (as admin); the others are refused with 401. See PlatformOptions. */
  readonly anonymous: AnonymousAccess;
  private cleanup: ContentCleanup;
  private eventExpiry: EventExpiry;
  private http?: FastifyInstance;
  private routePlugins: ((app: FastifyInstance) => void)[] = [];
  private ready = false;
  private stopStep?: string;
  /** Set when the store can no longer serve: the process can only stop. */
  private fatal?: Error;
  private fatalListeners: ((e: Error) => void)[] = [];
  private modules: PlatformModule[] = [];
  url = '';

  constructor(readonly opts: PlatformOptions) {
    this.dataDir = resolve(opts.dataDir);
    mkdirSync(this.dataDir, { recursive: true });
    this.log = opts.log ?? createLogger();
    this.adminToken = readOrCreate(join(this.dataDir, 'token'), () => randomBytes(24).toString('base64url'));
    this.registry = new TypeRegistry();
    for (const t of builtinTypes()) this.registry.register(t);
    const cipher = SecretCipher.fromEnvOrFile(join(this.dataDir, 'encryption.key'));
    this.store = new SqliteStore({
      path: join(this.dataDir, 'pave.db'),
      cipher,
      isSensitive: (group, resource) => this.registry.byGroupResource(group, resource)?.sensitive === true,
    });
    this.store.onFailure?.((e) => {
      this.fatal = e;
      this.ready = false;
      this.log.error({ err: e }, 'the store failed: nothing can be read or written until Pave is restarted');
      for (const l of this.fatalListeners) l(e);
    });
    this.anonymous = opts.allowAnonymous === undefined ? 'this-machine' : opts.allowAnonymous ? 'anywhere' : 'never';
    const authorizer: Authorizer = (user) => {
      if (user === ADMIN || user === SYSTEM || user.groups.includes('system:masters')) return undefined;
      // the HTTP layer lets anonymous requests through only from where they are allowed
      if (user === ANONYMOUS && this.anonymous !== 'never') return undefined;
      return 'this server requires the admin token (see the kubeconfig in the data directory)';
    };
    this.service = new ResourceService(this.store, this.registry, new Admission(authorizer));
    this.client = new InProcessClient(this.service);
    this.manager = new Manager(this.client, this.log);
    this.gc = new GarbageCollector(this.service, this.log.child({ component: 'gc' }));
    this.cleanup = new ContentCleanup(this.service, this.log.child({ component: 'cleanup' }));
    this.eventExpiry = new EventExpiry(this.service, this.log.child({ component: 'event-expiry' }), opts.eventTtlMs);
  }

  async start(): Promise<void> {
    const modules = this.opts.modules ?? (await import('./modules.js')).defaultModules();
    this.modules = modules;
    await this.service.start();
    for (const m of modules) await m.install(this);
    await this.gc.start();
    await this.cleanup.start();
    await this.eventExpiry.start();
    if (this.opts.listen !== false) {
      const { app } = createHttpServer({ service: this.service, log: this.log, adminToken: this.adminToken, anonymous: this.anonymous, ready: () => this.ready, failure: () => this.fatal });
      this.http = app;
      for (const plugin of this.routePlugins) plugin(app);
      const host = this.opts.host ?? DEFAULT_HOST;
      await app.listen({ port: this.opts.port ?? 7007, host });
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : this.opts.port;
      this.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
      this.writeKubeconfig();
    }
    await this.manager.start();
    for (const m of modules) await m.start?.(this);
    this.ready = !this.fatal;
  }

  async stop(): Promise<void> {
    this.ready = false;
    for (const m of [...this.modules].reverse()) await this.stopping(`the ${m.name} module`, () => m.stop?.(this));
    await this.stopping('the HTTP server', () => this.http?.close());
    await this.stopping('the controllers', () => this.manager.stop());
    await this.eventExpiry.stop();
    await this.cleanup.stop();
    await this.gc.stop();
    await this.service.stop();
    await this.stopping('the store', () => this.store.close());
  }

  /** What stop() is waiting for right now, if it is stopping. */
  stoppingFor(): string | undefined {
    return this.stopStep;
  }

  /** One step of stopping; one that takes long says what it waits for, so a stop that hangs is not silent. */
  private async stopping(what: string, step: () => unknown): Promise<void> {
    this.stopStep = what;
    const started = Date.now();
    const slow = setInterval(() => this.log.warn({ seconds: Math.round((Date.now() - started) / 1000) }, `stopping: still waiting for ${what}`), STOP_STEP_WARN_MS).unref();
    try {
      await step();
    } finally {
      clearInterval(slow);
      this.stopStep = undefined;
    }
  }

  /**
   * `listener` is called once if Pave can no longer work (its store failed). /livez and
   * /healthz then answer 503 with the reason, so a supervisor restarts it; `pave up` exits.
   */
  onFatal(listener: (e: Error) => void): void {
    if (this.fatal) listener(this.fatal);
    else this.fatalListeners.push(listener);
  }

  /** Feature modules add their routes (`/api/<plugin>`) through this, before start. */
  routes(plugin: (app: FastifyInstance) => void): void {
    this.routePlugins.push(plugin);
  }

  kubeconfigPath(): string {
    return join(this.dataDir, 'kubeconfig');
  }

  private writeKubeconfig(): void {
    const cfg = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: pave',
      '  cluster:',
      `    server: ${this.url}/k8s`,
      // plain HTTP on loopback; client-node refuses http:// unless TLS verification is marked off
      '    insecure-skip-tls-verify: true',
      'users:',
      '- name: pave-admin',
      '  user:',
      `    token: ${this.adminToken}`,
      'contexts:',
      '- name: pave',
      '  context:',
      '    cluster: pave',
      '    user: pave-admin',
      '    namespace: default',
      'current-context: pave',
      '',
    ].join('\n');
    writeFileSync(this.kubeconfigPath(), cfg, { mode: 0o600 });
  }
}

function readOrCreate(file: string, make: () => string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const v = make();
  writeFileSync(file, v + '\n', { mode: 0o600 });
  return v;
}
