import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { git } from '../githost/index.js';

export interface RepoCredentials {
  username?: string;
  password?: string;
  bearerToken?: string;
}

export interface TreeIndexEntry {
  type: 'blob' | 'tree';
  oid: string;
}

/** Every path of one commit with its object id; the root tree is the path ''. */
export type TreeIndex = Map<string, TreeIndexEntry>;

/**
 * A bare mirror of one remote repository in the repo service's cache. Fetches are serialised;
 * reads (tree listings and blobs) go to objects already fetched, so they never touch the network.
 */
export class Mirror {
  private chain: Promise<unknown> = Promise.resolve();
  private trees = new Map<string, TreeIndex>();
  private loading = new Map<string, Promise<TreeIndex>>();
  /** Commits known to be here, so the hot path asks git nothing. */
  private commits = new Set<string>();
  private blobs?: BlobReader;

  constructor(
    readonly url: string,
    readonly dir: string,
  ) {}

  private async init(): Promise<void> {
    if (existsSync(`${this.dir}/HEAD`)) return;
    mkdirSync(this.dir, { recursive: true });
    await git(['init', '--bare', '--quiet', this.dir]);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  async hasCommit(sha: string): Promise<boolean> {
    if (this.commits.has(sha)) return true;
    await this.init();
    const r = await git(['cat-file', '-e', `${sha}^{commit}`], { cwd: this.dir, okCodes: [1, 128] });
    if (r.code === 0) this.commits.add(sha);
    return r.code === 0;
  }

  /** Fetches every branch and tag, unless `want` is already here. */
  fetch(creds: RepoCredentials | undefined, want?: string): Promise<void> {
    if (want && this.commits.has(want)) return Promise.resolve();
    return this.serial(async () => {
      await this.init();
      if (want && (await this.hasCommit(want))) return;
      await git([...authArgs(creds), 'fetch', '--quiet', '--prune', '--no-tags', this.url, '+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'], { cwd: this.dir });
    });
  }

  /** Lists the remote's refs without fetching objects (for polling external repositories). */
  async lsRemote(creds: RepoCredentials | undefined): Promise<Record<string, string>> {
    const { stdout } = await git([...authArgs(creds), 'ls-remote', '--symref', this.url]);
    const refs: Record<string, string> = {};
    for (const line of stdout.toString('utf8').split('\n')) {
      const [a, b] = line.split('\t');
      if (!a || !b) continue;
      if (a.startsWith('ref: ')) refs[`symref:${b}`] = a.slice(5);
      else refs[b] = a;
    }
    return refs;
  }

  async treeIndex(sha: string): Promise<TreeIndex> {
    const cached = this.trees.get(sha);
    if (cached) return cached;
    let loading = this.loading.get(sha);
    if (!loading) {
      loading = this.loadTree(sha).finally(() => this.loading.delete(sha));
      this.loading.set(sha, loading);
    }
    return loading;
  }

  private async loadTree(sha: string): Promise<TreeIndex> {
    const { stdout } = await git(['ls-tree', '-r', '-t', '-z', '--full-tree', sha], { cwd: this.dir });
    const root = (await git(['rev-parse', `${sha}^{tree}`], { cwd: this.dir })).stdout.toString('utf8').trim();
    const index: TreeIndex = new Map([['', { type: 'tree', oid: root }]]);
    for (const line of stdout.toString('utf8').split('\0')) {
      if (!line) continue;
      const tab = line.indexOf('\t');
      const [, type, oid] = line.slice(0, tab).split(' ');
      if (type === 'blob' || type === 'tree') index.set(line.slice(tab + 1), { type, oid: oid! });
    }
    if (this.trees.size >= 16) this.trees.delete(this.trees.keys().next().value!);
    this.trees.set(sha, index);
    return index;
  }

  readBlob(oid: string): Promise<Buffer> {
    this.blobs ??= new BlobReader(this.dir);
    return this.blobs.read(oid);
  }

  close(): void {
    this.blobs?.close();
  }
}

function authArgs(creds: RepoCredentials | undefined): string[] {
  if (!creds) return [];
  if (creds.bearerToken) return ['-c', `http.extraHeader=Authorization: Bearer ${creds.bearerToken}`];
  if (creds.password !== undefined) {
    const basic = Buffer.from(`${creds.username ?? 'git'}:${creds.password}`).toString('base64');
    return ['-c', `http.extraHeader=Authorization: Basic ${basic}`];
  }
  return [];
}

/** One long-lived `git cat-file --batch`: reading a blob costs a pipe round trip, not a process. */
class BlobReader {
  private child?: ChildProcessWithoutNullStreams;
  private pending: { oid: string; resolve: (b: Buffer) => void; reject: (e: Error) => void }[] = [];
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly dir: string) {}

  private start(): ChildProcessWithoutNullStreams {
    const child = spawn('git', ['cat-file', '--batch'], { cwd: this.dir, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.drain();
    });
    const fail = (e: Error) => {
      this.child = undefined;
      for (const p of this.pending.splice(0)) p.reject(e);
    };
    child.on('error', fail);
    child.on('close', () => fail(new Error('git cat-file exited')));
    child.stdin.on('error', () => undefined);
    return child;
  }

  private drain(): void {
    for (;;) {
      const head = this.pending[0];
      if (!head) return;
      const nl = this.buf.indexOf(10);
      if (nl < 0) return;
      const header = this.buf.subarray(0, nl).toString('utf8');
      if (header.endsWith(' missing')) {
        this.buf = this.buf.subarray(nl + 1);
        this.pending.shift();
        head.reject(new Error(`object ${head.oid} is missing from the mirror`));
        continue;
      }
      const size = Number(header.split(' ')[2]);
      if (this.buf.length < nl + 1 + size + 1) return;
      const content = Buffer.from(this.buf.subarray(nl + 1, nl + 1 + size));
      this.buf = this.buf.subarray(nl + 1 + size + 1);
      this.pending.shift();
      head.resolve(content);
    }
  }

  read(oid: string): Promise<Buffer> {
    this.child ??= this.start();
    return new Promise((resolve, reject) => {
      this.pending.push({ oid, resolve, reject });
      this.child!.stdin.write(`${oid}\n`);
    });
  }

  close(): void {
    this.child?.stdin.end();
    this.child?.kill();
  }
}
