import { flowFragmentSchema } from '@sluice/protocol';
import { describe, expect, it } from 'vitest';
import { fragmentSize, offsetTo, SnippetStore, snippetKey } from './snippets.ts';

function memoryStorage() {
  const map = new Map<string, string>();
  return { getItem: (k: string) => map.get(k) ?? null, setItem: (k: string, v: string) => void map.set(k, v), map };
}

const fragment = flowFragmentSchema.parse({
  processors: [
    { id: 'a', name: 'A', type: 'GenerateFlowFile', position: { x: 100, y: 200 } },
    { id: 'b', name: 'B', type: 'LogAttribute', position: { x: 140, y: 400 } },
  ],
  connections: [{ id: 'c', source: { id: 'a' }, destination: { id: 'b' }, relationships: ['success'] }],
  labels: [{ id: 'l', text: 'note', position: { x: 60, y: 260 } }],
});

describe('snippets', () => {
  it('saves, lists (sorted), replaces and removes per user', () => {
    const storage = memoryStorage();
    const store = new SnippetStore(storage, snippetKey('admin'));
    let changes = 0;
    store.subscribe(() => changes++);
    store.save('zeta', fragment);
    store.save('alpha', fragment);
    store.save('zeta', fragment);
    expect(store.list().map((s) => s.name)).toEqual(['alpha', 'zeta']);
    expect(changes).toBe(3);
    // Another store on the same storage reads what was written.
    expect(new SnippetStore(storage, snippetKey('admin')).get('alpha')?.fragment.processors).toHaveLength(2);
    expect(new SnippetStore(storage, snippetKey('viewer')).list()).toEqual([]);
    store.remove('alpha');
    expect(store.list().map((s) => s.name)).toEqual(['zeta']);
  });

  it('ignores a stored list it cannot read', () => {
    const storage = memoryStorage();
    storage.setItem(snippetKey('x'), 'not json');
    expect(new SnippetStore(storage, snippetKey('x')).list()).toEqual([]);
    storage.setItem(snippetKey('y'), JSON.stringify([{ name: 'ok', savedAt: 't', fragment: {} }, { name: 3 }]));
    expect(new SnippetStore(storage, snippetKey('y')).list().map((s) => s.name)).toEqual(['ok']);
  });

  it('counts components and offsets the top-left one to the drop point', () => {
    expect(fragmentSize(fragment)).toBe(3);
    expect(offsetTo(fragment, { x: 500, y: 500 })).toEqual({ x: 440, y: 300 });
  });
});
