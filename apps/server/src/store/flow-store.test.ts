import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlowStore, KEPT_VERSIONS } from './flow-store.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-store-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const save = (store: FlowStore, n: number, newVersion = true) =>
  store.save({ flow: { n }, revisions: { a: n }, savedBy: 'test', summary: `change ${n}` }, { newVersion });

describe('flow store', () => {
  it('keeps the last 20 versions, each readable, newest first', async () => {
    const store = await FlowStore.open(dir);
    expect(store.current).toBeUndefined();
    for (let i = 1; i <= 25; i++) expect(await save(store, i)).toBe(i);
    const versions = await store.versions();
    expect(versions.map((v) => v.version)).toEqual(Array.from({ length: KEPT_VERSIONS }, (_, i) => 25 - i));
    expect((await store.version(6))?.flow).toEqual({ n: 6 });
    expect(await store.version(5)).toBeUndefined();
    const reopened = await FlowStore.open(dir);
    expect(reopened.current).toMatchObject({ version: 25, flow: { n: 25 }, revisions: { a: 25 }, summary: 'change 25' });
  });

  it('rewrites the current version for run-state saves, without a new history entry', async () => {
    const store = await FlowStore.open(dir);
    await save(store, 1);
    expect(await save(store, 2, false)).toBe(1);
    expect(store.current?.flow).toEqual({ n: 2 });
    expect((await store.versions()).length).toBe(1);
  });

  it('serializes concurrent saves and leaves no temp files', async () => {
    const store = await FlowStore.open(dir);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => save(store, i + 1)));
    expect(results).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect((await FlowStore.open(dir)).current?.flow).toEqual({ n: 10 });
  });

  it('drops a history file a crash left ahead of flow.json', async () => {
    const store = await FlowStore.open(dir);
    await save(store, 1);
    writeFileSync(
      join(dir, 'flow-history', 'flow-00000002.json'),
      JSON.stringify({ format: 1, version: 2, savedAt: 0, savedBy: 'x', summary: 'x', flow: {}, revisions: {} }),
    );
    const reopened = await FlowStore.open(dir);
    expect((await reopened.versions()).map((v) => v.version)).toEqual([1]);
  });

  it('names the file when flow.json is malformed', async () => {
    writeFileSync(join(dir, 'flow.json'), '{"format": 1, "version": "one"}');
    await expect(FlowStore.open(dir)).rejects.toThrow(/flow\.json is malformed: version/);
    writeFileSync(join(dir, 'flow.json'), '{not json');
    await expect(FlowStore.open(dir)).rejects.toThrow(/flow\.json is not valid JSON/);
  });
});
