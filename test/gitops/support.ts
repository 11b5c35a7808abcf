import { join } from 'node:path';
import { gitHostModule } from '../../src/githost/index.js';
import { gitOpsModule } from '../../src/gitops/index.js';
import { api, authedUrl, WorkingCopy } from '../githost/support.js';
import { eventually, startPlatform, tempDir } from '../support/platform.js';

export type TestPlatform = Awaited<ReturnType<typeof startPlatform>>;

/** A platform with the Git host and GitOps, and a fresh repository cloned into a working copy. */
export async function startDelivery(): Promise<TestPlatform> {
  return startPlatform({ modules: [gitHostModule(), gitOpsModule()] });
}

export async function newRepo(p: TestPlatform, owner: string, name: string): Promise<{ url: string; wc: WorkingCopy }> {
  const r = await api(p.url, 'POST', '/api/git/repos', p.adminToken, { owner, name });
  if (r.code !== 201) throw new Error(`cannot create repository: ${r.text}`);
  const wc = await WorkingCopy.clone(authedUrl(r.json.url, p.adminToken), join(tempDir(), name));
  return { url: r.json.url, wc };
}

export function application(name: string, repoURL: string, path: string, extra: { automated?: Record<string, unknown>; syncOptions?: string[]; namespace?: string; annotations?: Record<string, string>; project?: string } = {}) {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: 'argocd', ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: {
      project: extra.project ?? 'default',
      source: { repoURL, targetRevision: 'HEAD', path },
      destination: { server: 'https://kubernetes.default.svc', namespace: extra.namespace ?? 'default' },
      syncPolicy: { ...(extra.automated ? { automated: extra.automated } : {}), ...(extra.syncOptions ? { syncOptions: extra.syncOptions } : {}) },
    },
  };
}

export async function getApp(p: TestPlatform, name: string) {
  return p.client.get({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', namespace: 'argocd', name });
}

export async function waitApp(p: TestPlatform, name: string, pred: (app: any) => boolean, what: string, timeoutMs = 15_000) {
  return eventually(async () => {
    const a = await getApp(p, name);
    return pred(a) ? a : undefined;
  }, timeoutMs, `${name}: ${what}`);
}

export function configMap(name: string, data: Record<string, string>, annotations?: Record<string, string>): string {
  const ann = annotations ? `  annotations:\n${Object.entries(annotations).map(([k, v]) => `    ${k}: "${v}"`).join('\n')}\n` : '';
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${ann}data:\n${Object.entries(data).map(([k, v]) => `  ${k}: "${v}"`).join('\n')}\n`;
}
