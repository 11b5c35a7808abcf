import type { Logger } from 'pino';
import type { Client, Watch } from '../../api/client.js';
import type { TypeRegistry } from '../../api/registry.js';
import type { Resource } from '../../api/types.js';
import type { Informer } from '../../runtime/informer.js';

export const GIT_REPOSITORY = { apiVersion: 'git.pave.dev/v1alpha1', kind: 'GitRepository' };

/** The push a GitRepository's status reports (the Git host's contract). */
interface LastPush {
  ref: string;
  before?: string;
  after: string;
  changedPaths?: string[];
}

/**
 * Refreshes exactly the Locations whose files a push changed, instead of re-reading every
 * location on a timer. It watches GitRepository objects (once the Git host serves that type)
 * and matches each push's changed paths against the raw URLs Locations last read.
 */
export class GitPushRefresher {
  private watch?: Watch;
  private stopped = false;
  private lastSeen = new Map<string, string>();
  private unlisten?: () => void;

  constructor(
    private readonly client: Client,
    private readonly registry: TypeRegistry,
    private readonly locations: Informer,
    private readonly enqueue: (locationKey: string) => void,
    private readonly log: Logger,
    /** Told about every push, for caches keyed by repository (TechDocs). */
    private readonly onPush: (repo: Resource) => void = () => {},
  ) {}

  start(): void {
    if (this.registry.lookup(GIT_REPOSITORY.apiVersion, GIT_REPOSITORY.kind)) void this.run();
    else {
      this.unlisten = this.registry.onChange((t, change) => {
        if (change === 'added' && t.group === 'git.pave.dev' && t.kind === GIT_REPOSITORY.kind && !this.watch) void this.run();
      });
    }
  }

  stop(): void {
    this.stopped = true;
    this.unlisten?.();
    this.watch?.stop();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        this.watch = await this.client.watch(GIT_REPOSITORY.apiVersion, GIT_REPOSITORY.kind, {}, (e) => {
          if (e.type === 'ADDED' || e.type === 'MODIFIED') this.seen(e.object, e.type === 'MODIFIED');
        });
        await this.watch.done;
      } catch (err) {
        if (this.stopped) return;
        this.log.debug({ err }, 'GitRepository watch ended; restarting');
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, 500));
    }
  }

  private seen(repo: Resource, modified: boolean): void {
    const push = repo.status?.lastPush as LastPush | undefined;
    const name = repo.metadata.name!;
    if (!push?.after) return;
    const before = this.lastSeen.get(name);
    this.lastSeen.set(name, push.after);
    if (!modified || before === push.after) return;
    this.onPush(repo);
    const owner = repo.spec?.owner;
    const repoName = repo.spec?.name;
    const branch = push.ref.replace(/^refs\/heads\//, '');
    const changed = new Set(push.changedPaths ?? []);
    const prefix = `/api/git/repos/${owner}/${repoName}/raw/`;
    for (const loc of this.locations.list()) {
      const targets: string[] = loc.status?.targets ?? [];
      const hit = targets.some((t) => {
        const at = t.indexOf(prefix);
        if (at < 0) return false;
        const rest = decodeURI(t.slice(at + prefix.length));
        const matchingRef = rest.startsWith(`${branch}/`) || rest.startsWith(`${push.ref}/`);
        if (!matchingRef) return false;
        const path = rest.startsWith(`${branch}/`) ? rest.slice(branch.length + 1) : rest.slice(push.ref.length + 1);
        return !push.changedPaths || changed.has(path);
      });
      if (hit) {
        this.log.info({ location: loc.metadata.name, repository: name, commit: push.after }, 'push changed a catalog file; refreshing its location');
        this.enqueue(`${loc.metadata.namespace}/${loc.metadata.name}`);
      }
    }
  }
}
