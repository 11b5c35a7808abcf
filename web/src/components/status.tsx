import type { Condition, Resource } from '../api/k8s';

export type Tone = 'good' | 'bad' | 'busy' | 'unknown';

export function Badge({ tone, children, title }: { tone: Tone; children: string; title?: string }) {
  return (
    <span className={`badge ${tone}`} title={title} data-tone={tone}>
      <span className="dot" aria-hidden="true" />
      {children}
    </span>
  );
}

/** A Crossplane-style condition (Ready, Synced) as a badge with its reason. */
export function ConditionBadge({ obj, type }: { obj: Resource | undefined; type: string }) {
  const c = (obj?.status?.conditions as Condition[] | undefined)?.find((x) => x.type === type);
  const tone: Tone = !c || c.status === 'Unknown' ? 'unknown' : c.status === 'True' ? 'good' : c.reason === 'Creating' || c.reason === 'Unavailable' || c.reason === 'Waiting' ? 'busy' : 'bad';
  const label = `${type}${c ? `: ${c.status === 'True' ? 'True' : c.status}` : ': —'}`;
  return (
    <Badge tone={tone} title={c?.message}>
      {`${label}${c?.reason ? ` (${c.reason})` : ''}`}
    </Badge>
  );
}

export function syncTone(status: string | undefined): Tone {
  return status === 'Synced' ? 'good' : status === 'OutOfSync' ? 'bad' : 'unknown';
}

export function healthTone(status: string | undefined): Tone {
  switch (status) {
    case 'Healthy':
      return 'good';
    case 'Progressing':
    case 'Suspended':
      return 'busy';
    case 'Degraded':
    case 'Missing':
      return 'bad';
    default:
      return 'unknown';
  }
}

/** "3 minutes ago" style, with the exact time in the title attribute where used. */
export function ago(time: string | undefined): string {
  if (!time) return '—';
  const s = Math.round((Date.now() - Date.parse(time)) / 1000);
  if (Number.isNaN(s)) return time;
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}
