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
 * that `pave up` wrote in the data directory, then the default local port.
 */
export function connect(opts: ConnectionOptions): HttpClient {
  let server = opts.server ?? process.env.PAVE_SERVER;
  let token = opts.token ?? process.env.PAVE_TOKEN;
  const kubeconfig = join(opts.dataDir ?? '.pave', 'kubeconfig');
  if ((!server || !token) && existsSync(kubeconfig)) {
    const cfg = parse(readFileSync(kubeconfig, 'utf8'));
    server ??= cfg?.clusters?.[0]?.cluster?.server;
    token ??= cfg?.users?.[0]?.user?.token;
  }
  server ??= 'http://127.0.0.1:7007';
  if (!/\/k8s\/?$/.test(server)) server = server.replace(/\/+$/, '') + '/k8s';
  return new HttpClient({ server, token });
}
