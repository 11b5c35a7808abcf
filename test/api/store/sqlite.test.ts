import { SqliteStore } from '../../../src/api/store/sqlite.js';
import { storeConformance } from './conformance.js';

storeConformance('sqlite (in memory)', async (opts) => new SqliteStore({ path: ':memory:', watchWindow: opts?.watchWindow }));
