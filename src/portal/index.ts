import type { Controller } from '../runtime/controller.js';
import type { Platform, PlatformModule } from '../platform.js';
import { requireToken, useBackstageErrors } from './backstage-http.js';
import { CatalogIndex } from './catalog/catalog-index.js';
import { ControlPlaneIngestor } from './catalog/controlplane-ingestor.js';
import { GitPushRefresher } from './catalog/git-refresh.js';
import { CATALOG_KINDS, catalogCrd, catalogKind, storageApiVersion } from './catalog/kinds.js';
import { LocationProcessor } from './catalog/location-processor.js';
import { LocationReader } from './catalog/location-reader.js';
import { LocationService } from './catalog/location-service.js';
import { registerCatalogRoutes } from './catalog/routes.js';
import { builtinActions, type TemplateAction } from './scaffolder/actions.js';
import { deliveryActions } from './scaffolder/delivery-actions.js';
import { publishActions } from './scaffolder/publish.js';
import { registerScaffolderRoutes } from './scaffolder/routes.js';
import { TaskRunner } from './scaffolder/task-runner.js';
import { TASK_API, taskCrd, TaskService } from './scaffolder/tasks.js';
import { TemplateFiles } from './scaffolder/template-files.js';
import { Templater } from './scaffolder/templating.js';
import { registerTechDocsRoutes, TechDocs } from './techdocs/techdocs.js';

/** The portal's parts, for the routes, the CLI's server side, tests and benchmarks. */
export class Portal {
  readonly index = new CatalogIndex();
  readonly reader: LocationReader;
  readonly processor: LocationProcessor;
  readonly locations: LocationService;
  readonly actions: TemplateAction[];
  readonly tasks: TaskService;
  readonly techdocs: TechDocs;
  locationController?: Controller;
  refresher?: GitPushRefresher;
  ingestor?: ControlPlaneIngestor;

  constructor(readonly platform: Platform) {
    const p = platform;
    const self = { selfUrl: () => p.url, token: p.adminToken };
    const log = p.log.child({ component: 'portal' });
    this.reader = new LocationReader(self);
    const orphanStrategy = p.opts.settings?.['catalog-orphan-strategy'] === 'delete' ? 'delete' : 'keep';
    this.processor = new LocationProcessor(p.client, p.manager.informers, this.reader, this.index, log, { orphanStrategy });
    this.locations = new LocationService(p.client, this.index, this.reader, this.processor, () => this.locationController?.queue);
    const templater = new Templater();
    this.actions = [...builtinActions({ files: new TemplateFiles(self), templater, locations: this.locations }), ...publishActions({ client: p.client, ...self }), ...deliveryActions({ client: p.client })];
    this.techdocs = new TechDocs(this.index, p.client, self);
    this.tasks = new TaskService(p.client, this.index, new TaskRunner(new Map(this.actions.map((a) => [a.id, a])), templater), p.dataDir, log);
  }
}

const portals = new WeakMap<Platform, Portal>();

/** The portal installed on a platform. */
export function portalOf(p: Platform): Portal {
  const portal = portals.get(p);
  if (!portal) throw new Error('the portal module is not installed on this platform');
  return portal;
}

/**
 * The portal module: Backstage's catalog (kinds as resources, locations, relations, the REST
 * API under /api/catalog), the scaffolder under /api/scaffolder and TechDocs.
 */
export function portalModule(): PlatformModule {
  return {
    name: 'portal',
    async install(p) {
      for (const crd of [...CATALOG_KINDS.map(catalogCrd), taskCrd]) await p.client.apply(crd, { fieldManager: 'pave-portal', force: true });
      const portal = new Portal(p);
      portals.set(p, portal);
      for (const k of CATALOG_KINDS) {
        p.manager.informers.get(storageApiVersion(k), k.kind).addHandler({
          onAdd: (o) => portal.index.upsert(o),
          onUpdate: (_old, o) => portal.index.upsert(o),
          onDelete: (o) => portal.index.remove(o),
        });
      }
      portal.locationController = p.manager.add(portal.processor.controller());
      portal.tasks.attach(p.manager.informers.get(TASK_API, 'ScaffolderTask'));
      p.manager.add(portal.tasks.controller());
      const plugin = (prefix: string, register: (app: Parameters<Parameters<Platform['routes']>[0]>[0]) => void) =>
        p.routes((app) => {
          void app.register(
            async (sub) => {
              useBackstageErrors(sub, p.log);
              requireToken(sub, p.adminToken, p.anonymous);
              register(sub);
            },
            { prefix },
          );
        });
      plugin('/api/catalog', (app) => registerCatalogRoutes(app, portal.index, portal.locations));
      plugin('/api/scaffolder', (app) => registerScaffolderRoutes(app, portal.tasks, portal.index, portal.actions));
      plugin('/api/techdocs', (app) => registerTechDocsRoutes(app, portal.techdocs, portal.index));
    },
    start(p) {
      const portal = portalOf(p);
      const loc = catalogKind('Location')!;
      const log = p.log.child({ component: 'portal' });
      portal.refresher = new GitPushRefresher(p.client, p.registry, p.manager.informers.get(storageApiVersion(loc), loc.kind), (key) => portal.locationController?.queue.add(key), log);
      portal.refresher.start();
      portal.ingestor = new ControlPlaneIngestor(p.client, p.registry, p.manager.informers, portal.index, log);
      portal.ingestor.start();
    },
    async stop(p) {
      const portal = portals.get(p);
      portal?.refresher?.stop();
      await portal?.ingestor?.stop();
    },
  };
}
