import { request } from './http';

function repoPath(repository: string): string {
  const [owner, repo] = repository.split('/');
  return `/api/git/repos/${encodeURIComponent(owner!)}/${encodeURIComponent(repo!)}`;
}

/** Change request actions go through the Git host's REST API, which updates the object's status. */
export function changeRequestAction(repository: string, namespace: string, name: string, action: 'approve' | 'merge' | 'close', user?: string): Promise<unknown> {
  return request(`${repoPath(repository)}/changes/${encodeURIComponent(name)}/${action}?namespace=${encodeURIComponent(namespace)}`, { method: 'POST', json: { namespace, ...(user ? { user } : {}) } });
}

/** The unified diff of a change request (target branch → source branch). */
export function changeRequestDiff(repository: string, namespace: string, name: string): Promise<string> {
  return request<string>(`${repoPath(repository)}/changes/${encodeURIComponent(name)}/diff?namespace=${encodeURIComponent(namespace)}`, { headers: { accept: 'text/x-diff' } });
}
