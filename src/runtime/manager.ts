import type { Logger } from 'pino';
import type { Client } from '../api/client.js';
import { Controller, type ControllerContext, type ControllerSpec } from './controller.js';
import { EventRecorder } from './events.js';
import { InformerFactory } from './informer.js';

/**
 * Owns start-up and shutdown of controllers and their shared informers: caches are synced
 * before any worker runs, and stop drains workers before the informers close.
 */
export class Manager {
  readonly informers: InformerFactory;
  private controllers: Controller[] = [];
  private started = false;

  constructor(
    readonly client: Client,
    readonly log: Logger,
  ) {
    this.informers = new InformerFactory(client, log);
  }

  add(spec: ControllerSpec): Controller {
    const ctx: ControllerContext = {
      client: this.client,
      informers: this.informers,
      recorder: new EventRecorder(this.client, spec.name, this.log),
      log: this.log.child({ controller: spec.name }),
    };
    const c = new Controller(spec, ctx);
    this.controllers.push(c);
    if (this.started) {
      this.informers.start();
      void this.informers.waitForSync().then(() => c.start());
    }
    return c;
  }

  async start(): Promise<void> {
    this.started = true;
    this.informers.start();
    await this.informers.waitForSync();
    await Promise.all(this.controllers.map((c) => c.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.controllers.map((c) => c.stop()));
    await this.informers.stop();
  }

  list(): Controller[] {
    return [...this.controllers];
  }

  /** Resolves once every controller has been idle for `quietMs`: for tests and benchmarks. */
  async settle(quietMs = 100, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let quietSince = Date.now();
    for (;;) {
      if (!this.controllers.every((c) => c.idle())) quietSince = Date.now();
      else if (Date.now() - quietSince >= quietMs) return;
      if (Date.now() > deadline) throw new Error('controllers did not settle in time');
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
