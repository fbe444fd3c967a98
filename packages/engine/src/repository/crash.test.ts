import { spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { FlowFileRecord } from '../flowfile/flowfile-record.ts';
import { SqliteStateStore } from '../state/sqlite-state-store.ts';
import { COMPONENT, txOf } from './crash-child.test-helper.ts';
import { FileFlowFileRepository } from './file-flowfile-repository.ts';
import { tempDir } from './test-support.test-helper.ts';
import type { RecoveredState } from './types.ts';

const script = fileURLToPath(new URL('./crash-child.test-helper.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const { dir, cleanup } = tempDir('sluice-crash-');
afterAll(cleanup);

/** Runs the child until it has acked `target` transactions, waits a random moment, SIGKILLs it. */
function runAndKill(durability: string, target: number, delayMs: number): Promise<{ ready: number; maxAcked: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, dir, durability], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let ready = -1;
    let acks = 0;
    let maxAcked = 0;
    let killing = false;
    let buffer = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf('\n');
        const [word, num] = line.split(' ');
        if (word === 'ready') ready = Number(num);
        if (word === 'acked') {
          acks++;
          maxAcked = Math.max(maxAcked, Number(num));
          if (acks >= target && !killing) {
            killing = true;
            setTimeout(() => child.kill('SIGKILL'), delayMs);
          }
        }
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL' || !killing) reject(new Error(`child exited (${code}, ${signal}) before the kill: ${stderr}`));
      else if (stderr !== '') reject(new Error(`child reported errors: ${stderr}`));
      else resolve({ ready, maxAcked });
    });
  });
}

/**
 * Recovers a copy of what the kill left (the next child recovers the original), checks every
 * invariant, and closes cleanly. Returns the last transaction found.
 */
async function recoverAndCheck(minLast: number): Promise<{ last: number; state: RecoveredState; left: string }> {
  const copy = `${dir}-check`;
  rmSync(copy, { recursive: true, force: true });
  cpSync(dir, copy, { recursive: true });
  const partial = existsSync(join(copy, 'repo', 'snapshot.partial'));
  const left = `${readdirSync(join(copy, 'repo', 'journals')).length} journals${partial ? ' + snapshot.partial' : ''} left`;
  const store = new SqliteStateStore(join(copy, 'state.db'));
  let recovered: RecoveredState | undefined;
  const repo = new FileFlowFileRepository({
    directory: join(copy, 'repo'),
    durability: 'process',
    stateStore: store,
    snapshot: () =>
      ['in', 'out'].map((queueId) => ({
        queueId,
        flowFiles: recovered?.queues.get(queueId) ?? [],
        swaps: recovered?.swaps.get(queueId) ?? [],
      })),
  });
  try {
    recovered = await repo.recover();
    const state = recovered;
    const last = Number(store.get(COMPONENT, 'last') ?? '0');
    expect(last).toBeGreaterThanOrEqual(minLast);

    const inQ = state.queues.get('in') ?? [];
    const out: FlowFileRecord[] = [...(state.queues.get('out') ?? [])];
    for (const swap of state.swaps.get('out') ?? []) out.push(...repo.readSwapFile(swap));
    expect([...state.queues.keys()].every((q) => q === 'in' || q === 'out')).toBe(true);

    // Queue `in` holds exactly the last transaction's FlowFiles, in order: never half of one.
    expect(inQ.map((f) => f.uuid)).toEqual(last === 0 ? [] : [0, 1, 2, 3].map((i) => `tx${last}-${i}`));

    const uuids = new Set<string>();
    const byTx = new Map<number, FlowFileRecord[]>();
    for (const ff of [...inQ, ...out]) {
      expect(uuids.has(ff.uuid)).toBe(false);
      uuids.add(ff.uuid);
    }
    for (const ff of out) {
      const t = txOf(ff);
      byTx.set(t, [...(byTx.get(t) ?? []), ff]);
    }
    for (let t = 1; t <= last; t++) {
      const present = (byTx.get(t) ?? []).map((f) => Number(f.getAttribute('i'))).sort();
      byTx.delete(t);
      if (t === last) expect(present).toEqual([]);
      else if (t >= last - 2) {
        expect(present, `tx ${t} of ${last}`).toEqual([0, 1, 2, 3]);
        const moved = out.find((f) => f.uuid === `tx${t}-0`);
        expect(moved?.getAttribute('moved')).toBe(String(t + 1));
      } else if (store.get(COMPONENT, `dropped/${t}`) === '1') expect(present, `dropped tx ${t}`).toEqual([]);
      else expect(present, `tx ${t} of ${last}`).toEqual([2, 3]);
    }
    // Nothing from a transaction after `last` (state and FlowFiles were committed together).
    expect([...byTx.keys()]).toEqual([]);

    const txKeys = store.scan(COMPONENT, { prefix: 'tx/' }).map(([k]) => Number(k.slice(3)));
    const expectedKeys: number[] = [];
    for (let t = Math.max(1, last - 4); t <= last; t++) expectedKeys.push(t);
    expect(txKeys.sort((a, b) => a - b)).toEqual(expectedKeys);
    expect(state.report.skippedRecords).toBe(0);
    return { last, state, left };
  } finally {
    await repo.close();
    store.close();
    rmSync(copy, { recursive: true, force: true });
  }
}

describe('FileFlowFileRepository crash recovery (kill -9 of a real process)', () => {
  it('recovers every acknowledged transaction and never half of one, over repeated kills', { timeout: 180_000 }, async () => {
    let last = 0;
    const lines: string[] = [];
    for (let run = 0; run < 8; run++) {
      const durability = run % 3 === 2 ? 'power' : 'process';
      const target = 20 + Math.floor(Math.random() * 400);
      const delay = Math.floor(Math.random() * 25);
      const { ready, maxAcked } = await runAndKill(durability, target, delay);
      expect(ready).toBe(last);
      const checked = await recoverAndCheck(maxAcked);
      expect(checked.last).toBeGreaterThanOrEqual(maxAcked);
      const r = checked.state.report;
      lines.push(
        `run ${run} (${durability}): acked up to ${maxAcked}, recovered up to ${checked.last}; killed with ${checked.left}; ` +
          `snapshot ${r.snapshotRecords} records, ${r.journalTransactions} transactions replayed, ` +
          `${checked.state.swaps.get('out')?.length ?? 0} swap files, ` +
          `${r.droppedTailBytes} torn bytes dropped, ${r.durationMs.toFixed(1)} ms`,
      );
      last = checked.last;
    }
    console.log(`[crash]\n${lines.join('\n')}`);
  });
});
