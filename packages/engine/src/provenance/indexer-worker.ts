/**
 * Entry point of the provenance indexer worker thread (see {@link Indexer}). Started by the file
 * provenance repository; exits when told to stop. Any error escapes as an uncaught exception, which
 * the repository receives as the worker's `error` event.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Indexer } from './index-writer.ts';
import { parseInit, parseToIndexer } from './indexer-protocol.ts';

const port = parentPort;
if (port === null) throw new Error('indexer-worker must run in a worker thread');

const indexer = new Indexer(parseInit(workerData), (message) => port.postMessage(message));
port.on('message', (raw: unknown) => {
  indexer.handle(parseToIndexer(raw), () => port.close());
});
port.postMessage({ type: 'ready', indexedId: indexer.indexedId });
indexer.schedule();
