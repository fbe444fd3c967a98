/**
 * Child process for the kill -9 test: opens a file repository in argv[2], appends argv[3] events
 * in batches of 500 with a flush after each (as group commits do), prints the first and last id,
 * then SIGKILLs itself while its indexer is most likely still catching up.
 */
import { uuidv7 } from '../flowfile/uuid.ts';
import { FileProvenanceRepository } from './index.ts';
import { event, T0 } from './test-events.test-helper.ts';

const [directory, countText] = process.argv.slice(2);
if (directory === undefined || countText === undefined) throw new Error('usage: kill-child <dir> <count>');
const repo = new FileProvenanceRepository({ directory, durability: 'process' });
await repo.open();
const count = Number(countText);
let first = -1;
let last = -1;
for (let done = 0; done < count; done += 500) {
  const uuid = uuidv7();
  const batch = Array.from({ length: Math.min(500, count - done) }, (_, i) =>
    event('ROUTE', uuid, { eventTime: T0 + done + i, componentId: 'killed', attrs: { filename: 'k.txt', n: String(done + i) } }),
  );
  const id = repo.append(batch);
  if (first < 0) first = id;
  last = id + batch.length - 1;
  repo.flush();
}
process.stdout.write(`${first} ${last}\n`, () => process.kill(process.pid, 'SIGKILL'));
