import { parentPort, workerData } from 'node:worker_threads';
import { SecretCipher } from './cipher.js';
import { Checkpointer, EngineBadRequest, SqliteEngine } from './sqlite-engine.js';
import { decodeBatch, type EngineRequest, type EngineResponse, type EngineWorkerData } from './sqlite-protocol.js';

/**
 * The embedded store's own threads. The engine thread owns the connection that writes and
 * answers the API thread's requests in the order they arrive (reads may go ahead of writes sent
 * with them, see below); the checkpointer thread copies the WAL into the database beside it.
 */
const data = workerData as EngineWorkerData;
const port = parentPort!;

if (data.role === 'checkpointer') {
  const checkpointer = new Checkpointer(data.path, data.wal!);
  port.once('message', () => {
    checkpointer.close();
    port.close();
  });
} else serve(new SqliteEngine(data.path, data.key ? new SecretCipher(Buffer.from(data.key)) : undefined, data.wal));

function serve(engine: SqliteEngine): void {
  port.on('message', (requests: EngineRequest[]) => {
    const answers: EngineResponse[] = [];
    // Reads go before the writes that came with them: none of those writes has been acknowledged
    // yet, so a read may see the store before or after them, and readers should not wait behind
    // a batch's commit. Everything is otherwise answered in the order it was asked.
    const reads = requests.filter((r) => r.op !== 'write' && r.op !== 'close');
    if (reads.length && reads.length < requests.length) requests = [...reads, ...requests.filter((r) => r.op === 'write' || r.op === 'close')];
    for (const req of requests) {
      try {
        answers.push({ id: req.id, value: handle(engine, req) });
      } catch (e) {
        answers.push({ id: req.id, error: { message: (e as Error).message ?? String(e), badRequest: e instanceof EngineBadRequest } });
      }
      // a committed batch is answered at once: its writers go on while later batches commit
      if (req.op === 'write') port.postMessage(answers.splice(0));
    }
    if (answers.length) port.postMessage(answers);
    if (requests.some((r) => r.op === 'close')) port.close();
  });
}

function handle(engine: SqliteEngine, req: EngineRequest): unknown {
  switch (req.op) {
    case 'write':
      return engine.write(decodeBatch(req.batch), req.revision);
    case 'get':
      return engine.get(req.key);
    case 'list':
      return engine.list(req.query);
    case 'keys':
      return engine.keys();
    case 'count':
      return engine.count(req.grp, req.res, req.ns);
    case 'dependents':
      return engine.dependents(req.uid);
    case 'missingOwners':
      return engine.missingOwners();
    case 'findByUid':
      return engine.findByUid(req.uid);
    case 'close':
      engine.close();
      return undefined;
  }
}
