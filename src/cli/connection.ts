import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { HttpClient } from '../api/http-client.js';

export interface ConnectionOptions {
  server?: string;
  dataDir?: string;
  token?: string;
}

/**
 * Finds the server the way a user expects: --server, then PAVE_SERVER, then the kubeconfig
 * that `pave up` wrote in the data directory, then the default local port. The kubeconfig's
 * token goes only to the kubeconfig's own server: naming another server never sends it there.
 */
export function connect(opts: ConnectionOptions): HttpClient {
  let server = opts.server ?? process.env.PAVE_SERVER;
  let token = opts.token ?? process.env.PAVE_TOKEN;
  const kubeconfig = join(opts.dataDir ?? '.pave', 'kubeconfig');
  if ((!server || !token) && existsSync(kubeconfig)) {
    const cfg = parse(readFileSync(kubeconfig, 'utf8'));
    const own: string | undefined = cfg?.clusters?.[0]?.cluster?.server;
    server ??= own;
    if (own && apiBase(own) === apiBase(server!)) token ??= cfg?.users?.[0]?.user?.token;
  }
  return new HttpClient({ server: apiBase(server ?? 'http://127.0.0.1:7007'), token });
}

/** The Kubernetes-compatible API under a Pave URL given with or without /k8s. */
function apiBase(server: string): string {
  const base = server.replace(/\/+$/, '');
  return base.endsWith('/k8s') ? base : `${base}/k8s`;
}
