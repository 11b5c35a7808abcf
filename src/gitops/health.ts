import type { Resource } from '../api/types.js';

export type HealthStatus = 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown';

export interface Health {
  status: HealthStatus;
  message?: string;
}

/** Worst first: the order Argo CD uses to combine resource health into application health. */
const SEVERITY: HealthStatus[] = ['Healthy', 'Suspended', 'Progressing', 'Missing', 'Degraded', 'Unknown'];

export function worst(a: HealthStatus, b: HealthStatus): HealthStatus {
  return SEVERITY.indexOf(a) >= SEVERITY.indexOf(b) ? a : b;
}

/** A custom check (Argo CD Lua): returns undefined when no check is configured for the kind. */
export type CustomHealth = (obj: Resource) => Health | undefined;

function cond(obj: Resource, type: string): { status?: string; reason?: string; message?: string } | undefined {
  const list = obj.status?.conditions;
  return Array.isArray(list) ? list.find((c: { type?: string }) => c?.type === type) : undefined;
}

/**
 * The health of one live object: custom checks first, then built-in rules for well-known kinds,
 * then Crossplane's Synced/Ready conditions, then a generic Ready condition. Undefined means
 * the kind has no notion of health (it counts as healthy, as in Argo CD).
 */
export function assessHealth(obj: Resource | undefined, custom?: CustomHealth): Health | undefined {
  if (!obj) return { status: 'Missing' };
  const fromCustom = custom?.(obj);
  if (fromCustom) return fromCustom;
  if (obj.metadata.deletionTimestamp) return { status: 'Progressing', message: 'being deleted' };
  const group = obj.apiVersion.includes('/') ? obj.apiVersion.split('/')[0] : '';
  switch (`${group}/${obj.kind}`) {
    case 'argoproj.io/Application': {
      const h = obj.status?.health?.status as HealthStatus | undefined;
      return { status: h ?? 'Progressing', message: obj.status?.health?.message };
    }
    case 'apiextensions.k8s.io/CustomResourceDefinition': {
      const c = cond(obj, 'Established');
      return c?.status === 'True' ? { status: 'Healthy' } : { status: 'Progressing', message: 'waiting for the definition to be established' };
    }
    case '/PersistentVolumeClaim':
      return obj.status?.phase === 'Bound' ? { status: 'Healthy' } : { status: 'Progressing', message: `phase ${obj.status?.phase ?? 'Pending'}` };
    case '/Pod': {
      const phase = obj.status?.phase;
      if (phase === 'Succeeded' || phase === 'Running') return { status: 'Healthy' };
      if (phase === 'Failed') return { status: 'Degraded', message: obj.status?.message };
      return { status: 'Progressing' };
    }
    case 'batch/Job': {
      if (cond(obj, 'Failed')?.status === 'True') return { status: 'Degraded', message: cond(obj, 'Failed')?.message };
      if (cond(obj, 'Complete')?.status === 'True') return { status: 'Healthy' };
      return { status: 'Progressing' };
    }
    case 'pkg.crossplane.io/Provider':
    case 'pkg.crossplane.io/Function': {
      // Crossplane's package manager: usable once it is both installed and healthy
      const installed = cond(obj, 'Installed');
      const healthy = cond(obj, 'Healthy');
      if (!installed && !healthy) return { status: 'Progressing', message: 'waiting for the package to be installed' };
      if (installed?.status === 'True' && healthy?.status === 'True') return { status: 'Healthy' };
      const why = [installed, healthy].filter((c) => c && c.status !== 'True').map((c) => c!.message ?? c!.reason);
      return { status: 'Degraded', message: [...new Set(why)].join('; ') };
    }
    case 'apps/Deployment':
    case 'apps/StatefulSet': {
      if (obj.spec?.paused) return { status: 'Suspended', message: 'paused' };
      const want = obj.spec?.replicas ?? 1;
      const ready = obj.status?.readyReplicas ?? 0;
      return ready >= want ? { status: 'Healthy' } : { status: 'Progressing', message: `${ready}/${want} replicas ready` };
    }
  }
  const synced = cond(obj, 'Synced');
  const ready = cond(obj, 'Ready');
  if (synced || (ready && group !== '')) {
    // Crossplane's rules: a failing reconcile is degraded; otherwise readiness decides
    if (synced?.status === 'False') return { status: 'Degraded', message: synced.message ?? synced.reason };
    if (ready?.status === 'True') return { status: 'Healthy', message: ready.message };
    if (ready?.status === 'False' && /Unavailable|Failed|Error/.test(ready.reason ?? '') && synced?.status !== 'True') return { status: 'Degraded', message: ready.message ?? ready.reason };
    return { status: 'Progressing', message: ready?.message ?? ready?.reason ?? 'waiting for Ready' };
  }
  return undefined;
}
