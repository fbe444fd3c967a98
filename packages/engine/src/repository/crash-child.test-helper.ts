/**
 * Child process of the crash test: recovers the repository in `dir`, then commits transactions in a
 * loop until it is killed, printing `acked <n>` once transaction n's commit promise resolved.
 *
 * Transaction n (deterministic, so the parent can check any recovered state against it):
 *   - creates FlowFiles tx<n>-0..3 in queue `in`;
 *   - moves tx<n-1>-0..3 to `out` (-0 by a full put with attribute moved=n, the rest partial);
 *   - deletes tx<n-3>-0 and -1 (from `out`);
 *   - state of component `crash`: last=n, tx/<n>=1, delete tx/<n-5>.
 * Between them, separate transactions swap out old pairs of `out`, swap the newest batch back in,
 * or drop the oldest batch together with state dropped/<t> for each transaction t in it.
 *
 * Usage: node --import tsx crash-child.test-helper.ts <dir> <process|power>
 */
import { join } from 'node:path';
import { FlowFileRecord } from '../flowfile/flowfile-record.ts';
import { SqliteStateStore } from '../state/sqlite-state-store.ts';
import { FileFlowFileRepository } from './file-flowfile-repository.ts';
import type { RepositoryRecord, SwapRef } from './types.ts';

export const COMPONENT = 'crash';

export function txOf(ff: FlowFileRecord): number {
  return Number(ff.getAttribute('tx'));
}

function flowFile(n: number, i: number): FlowFileRecord {
  const now = Date.now();
  return new FlowFileRecord(
    `tx${n}-${i}`,
    new Map([
      ['filename', `tx${n}-${i}.bin`],
      ['path', './'],
      ['tx', String(n)],
      ['i', String(i)],
      ['pid', String(process.pid)],
    ]),
    { resourceId: `res-${Math.floor(n / 10)}`, offset: i * 100, length: 100 },
    now,
    now,
  );
}

async function main(): Promise<void> {
  const [dir, durabilityArg] = process.argv.slice(2);
  if (dir === undefined) throw new Error('usage: crash-child <dir> <process|power>');
  const durability = durabilityArg === 'power' ? 'power' : 'process';
  const store = new SqliteStateStore(join(dir, 'state.db'));
  const inQ = new Map<string, FlowFileRecord>();
  const outQ = new Map<string, FlowFileRecord>();
  let outSwaps: SwapRef[] = [];
  const repo = new FileFlowFileRepository({
    directory: join(dir, 'repo'),
    durability,
    checkpointIntervalMs: 100,
    checkpointJournalBytes: 64 * 1024,
    stateStore: store,
    snapshot: () => [
      { queueId: 'in', flowFiles: inQ.values(), swaps: [] },
      { queueId: 'out', flowFiles: outQ.values(), swaps: outSwaps },
    ],
    onError: (error) => process.stderr.write(`repository error: ${error.stack ?? error.message}\n`),
  });
  const recovered = await repo.recover();
  for (const ff of recovered.queues.get('in') ?? []) inQ.set(ff.uuid, ff);
  for (const ff of recovered.queues.get('out') ?? []) outQ.set(ff.uuid, ff);
  outSwaps = [...(recovered.swaps.get('out') ?? [])];
  let n = Number(store.get(COMPONENT, 'last') ?? '0');
  process.stdout.write(`ready ${n}\n`);

  const apply = (records: readonly RepositoryRecord[]): void => {
    for (const r of records) {
      if (r.type === 'put') {
        inQ.delete(r.flowFile.uuid);
        outQ.delete(r.flowFile.uuid);
        (r.queueId === 'in' ? inQ : outQ).set(r.flowFile.uuid, r.flowFile);
      } else if (r.type === 'delete') {
        inQ.delete(r.uuid);
        outQ.delete(r.uuid);
      }
    }
  };

  let round = 0;
  for (;;) {
    const burst = 1 + (round % 7);
    let last: Promise<void> = Promise.resolve();
    for (let b = 0; b < burst; b++) {
      n++;
      const tx = n;
      const records: RepositoryRecord[] = [];
      for (let i = 0; i < 4; i++) records.push({ type: 'put', queueId: 'in', flowFile: flowFile(tx, i), full: true });
      for (let i = 0; i < 4; i++) {
        const prev = inQ.get(`tx${tx - 1}-${i}`);
        if (prev === undefined) continue;
        records.push(
          i === 0
            ? {
                type: 'put',
                queueId: 'out',
                flowFile: prev.with({ attributes: new Map([...prev.attributes, ['moved', String(tx)]]) }),
                full: true,
              }
            : { type: 'put', queueId: 'out', flowFile: prev, full: false },
        );
      }
      for (let i = 0; i < 2; i++) if (outQ.has(`tx${tx - 3}-${i}`)) records.push({ type: 'delete', uuid: `tx${tx - 3}-${i}` });
      records.push({
        type: 'state',
        componentId: COMPONENT,
        ops: [
          { op: 'set', key: 'last', value: String(tx) },
          { op: 'set', key: `tx/${tx}`, value: '1' },
          { op: 'delete', key: `tx/${tx - 5}` },
        ],
      });
      apply(records);
      last = repo.commit(records).then(() => {
        process.stdout.write(`acked ${tx}\n`);
      });
    }

    // Swap out 20 FlowFiles of `out` once enough old pairs sit in memory.
    const old = [...outQ.values()].filter((ff) => txOf(ff) <= n - 3);
    if (old.length >= 40) {
      const batch = old.slice(0, 20);
      const swap = repo.writeSwapFile('out', batch);
      const records: RepositoryRecord[] = [{ type: 'swap-out', swap, uuids: batch.map((f) => f.uuid) }];
      for (const ff of batch) outQ.delete(ff.uuid);
      outSwaps.push(swap);
      repo.commitNoWait(records);
    }
    if (outSwaps.length > 3 && round % 3 === 0) {
      if (round % 2 === 0) {
        const swap = outSwaps.pop();
        if (swap !== undefined) {
          const back = repo.readSwapFile(swap);
          for (const ff of back) outQ.set(ff.uuid, ff);
          repo.commitNoWait([{ type: 'swap-in', swap }]);
        }
      } else {
        const swap = outSwaps.shift();
        if (swap !== undefined) {
          const txs = new Set(repo.readSwapFile(swap).map(txOf));
          repo.commitNoWait([
            { type: 'swap-drop', swap },
            { type: 'state', componentId: COMPONENT, ops: [...txs].map((t) => ({ op: 'set', key: `dropped/${t}`, value: '1' })) },
          ]);
        }
      }
    }
    round++;
    await last;
    if (round % 5 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

if (process.argv[1]?.endsWith('crash-child.test-helper.ts')) {
  main().catch((error: unknown) => {
    process.stderr.write(`crash child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
