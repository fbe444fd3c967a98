import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '../state/memory-state-store.ts';
import { makeFlowFile } from './test-support.test-helper.ts';
import { VolatileFlowFileRepository } from './volatile-flowfile-repository.ts';

describe('VolatileFlowFileRepository', () => {
  it('resolves commits at the next turn, in order, then runs afterDurable', async () => {
    let writes = 0;
    const repo = new VolatileFlowFileRepository({ flushHooks: { beforeWrite: () => void writes++ } });
    const recovered = await repo.recover();
    expect(recovered.queues.size).toBe(0);
    expect(recovered.report.journalTransactions).toBe(0);
    const order: string[] = [];
    let resolved = false;
    const first = repo.commit([{ type: 'put', queueId: 'q', flowFile: makeFlowFile(), full: true }]).then(() => {
      resolved = true;
      order.push('a');
    });
    const second = repo.commit([{ type: 'delete', uuid: 'x' }]).then(() => void order.push('b'));
    repo.afterDurable(() => order.push('durable'));
    await Promise.resolve();
    expect(resolved).toBe(false);
    await Promise.all([first, second]);
    await new Promise<void>((resolve) => repo.afterDurable(resolve));
    expect(order).toEqual(['a', 'b', 'durable']);
    expect(writes).toBe(1);
    expect(repo.stats().transactions).toBe(2);
  });

  it('keeps swap files in memory until swapped in or dropped', async () => {
    const repo = new VolatileFlowFileRepository();
    await repo.recover();
    const flowFiles = [makeFlowFile(), makeFlowFile()];
    const swap = repo.writeSwapFile('q', flowFiles);
    expect(swap.count).toBe(2);
    expect(swap.bytes).toBe(20);
    expect(repo.readSwapFile(swap).map((f) => f.uuid)).toEqual(flowFiles.map((f) => f.uuid));
    expect(repo.stats().swapFiles).toBe(1);
    repo.commitNoWait([{ type: 'swap-in', swap }]);
    expect(() => repo.readSwapFile(swap)).toThrow(swap.file);
    expect(repo.stats().swapFiles).toBe(0);
  });

  it('stages state at commit and applies it at the flush', async () => {
    const store = new MemoryStateStore();
    const repo = new VolatileFlowFileRepository({ stateStore: store });
    await repo.recover();
    const done = repo.commit([{ type: 'state', componentId: 'c', ops: [{ op: 'set', key: 'k', value: 'v' }] }]);
    expect(store.get('c', 'k')).toBe('v');
    expect(store.appliedSeq()).toBe(0);
    await done;
    expect(store.appliedSeq()).toBe(1);
    expect(store.stagedComponents()).toBe(0);
    await repo.close();
    expect(() => repo.commitNoWait([])).toThrow(/closed/);
  });
});
