import type { ReactNode } from 'react';
import { ApiFailure } from '../api/http';

/** What each path prefix is served by, so an absent backend is named in the message. */
const BACKENDS: [string, string][] = [
  ['/api/catalog', 'the catalog'],
  ['/api/scaffolder', 'the scaffolder'],
  ['/api/techdocs', 'TechDocs'],
  ['/api/git', 'the Git host'],
  ['/k8s/apis/argoproj.io', 'GitOps delivery (Argo CD Applications)'],
  ['/k8s/apis/git.pave.dev', 'the Git host'],
  ['/k8s', 'the resource API'],
];

export function backendOf(path: string): string {
  return BACKENDS.find(([p]) => path.startsWith(p))?.[1] ?? 'the server';
}

export function Loading({ what }: { what: string }) {
  return (
    <div className="state" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state empty" role="status">
      <strong>{title}</strong>
      {children && <div>{children}</div>}
    </div>
  );
}

/** An error as the user should read it: what failed, the server's reason, and what to try. */
export function ErrorState({ error, what, retry }: { error: unknown; what: string; retry?: () => void }) {
  const f = error instanceof ApiFailure ? error : undefined;
  let title = `Could not load ${what}`;
  let detail = error instanceof Error ? error.message : String(error);
  if (f?.unavailable) {
    title = `${capitalise(backendOf(f.path))} is not available on this server`;
    detail = `${capitalise(what)} needs ${backendOf(f.path)}, which this Pave server does not serve (${f.message}).`;
  } else if (f?.status === 0) {
    title = 'The Pave server is not reachable';
  }
  return (
    <div className="state error" role="alert">
      <strong>{title}</strong>
      <div>{detail}</div>
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
