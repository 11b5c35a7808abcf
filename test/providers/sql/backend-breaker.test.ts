import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BackendBreaker } from '../../../src/providers/sql/backend-breaker.js';

const refused = () => Object.assign(new Error('PostgreSQL 127.0.0.1:5432: connect ECONNREFUSED'), { cause: { code: 'ECONNREFUSED' } });
const isConnectionError = (e: unknown) => (e as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('BackendBreaker', () => {
  it('fails fast while the server is unreachable, probes once per interval, and closes when the server answers', async () => {
    const breaker = new BackendBreaker(100);
    let up = false;
    let attempts = 0;
    const statement = async () => {
      attempts++;
      if (!up) throw refused();
      return 'ok';
    };
    await assert.rejects(breaker.run(statement, isConnectionError), /ECONNREFUSED$/);
    assert.equal(breaker.open, true);
    // a thousand callers during the interval reach the server zero times, and each error still names it
    const results = await Promise.allSettled(Array.from({ length: 1000 }, () => breaker.run(statement, isConnectionError)));
    assert.equal(attempts, 1);
    assert.ok(results.every((r) => r.status === 'rejected' && /PostgreSQL 127\.0\.0\.1:5432: connect ECONNREFUSED \(unreachable since .*; retrying every 0\.1 s\)/.test(String(r.reason.message))));
    await sleep(120);
    await assert.rejects(breaker.run(statement, isConnectionError));
    assert.equal(attempts, 2, 'one probe after the interval');
    up = true;
    await sleep(120);
    assert.equal(await breaker.run(statement, isConnectionError), 'ok');
    assert.equal(breaker.open, false);
    assert.equal(await breaker.run(statement, isConnectionError), 'ok', 'closed again: every statement goes through');
  });

  it('stays closed when the server answers with an error: only unreachability opens it', async () => {
    const breaker = new BackendBreaker(1000);
    let attempts = 0;
    const failing = async () => {
      attempts++;
      throw Object.assign(new Error('syntax error'), { cause: { code: '42601' } });
    };
    await assert.rejects(breaker.run(failing, isConnectionError), /syntax error/);
    await assert.rejects(breaker.run(failing, isConnectionError), /syntax error/);
    assert.equal(attempts, 2);
    assert.equal(breaker.open, false);
  });
});
