import type { Edge, Node } from '@xyflow/react';
import { describe, expect, it } from 'vitest';
import { rebuildEdges, rebuildNodes } from './rebuild.ts';

const node = (id: string, x = 0): Node => ({ id, position: { x, y: 0 }, data: {} });

describe('rebuilding the canvas after a reload', () => {
  it('keeps the measured size and selection of nodes already shown, and takes the new data', () => {
    const shown = [
      { ...node('a'), measured: { width: 220, height: 104 }, selected: true },
      { ...node('b'), measured: { width: 180, height: 60 } },
      node('c'),
    ];
    const next = [node('a', 40), node('b', 80), node('c'), node('d')];
    const rebuilt = rebuildNodes(shown, next);
    expect(rebuilt.map((n) => [n.id, n.position.x, n.measured, n.selected])).toEqual([
      ['a', 40, { width: 220, height: 104 }, true],
      ['b', 80, { width: 180, height: 60 }, undefined],
      ['c', 0, undefined, undefined],
      ['d', 0, undefined, undefined],
    ]);
  });

  it('drops nodes the flow no longer has', () => {
    const rebuilt = rebuildNodes([{ ...node('gone'), measured: { width: 1, height: 1 } }], [node('new')]);
    expect(rebuilt.map((n) => [n.id, n.measured])).toEqual([['new', undefined]]);
  });

  it('keeps the selection of connections', () => {
    const edge = (id: string): Edge => ({ id, source: 'a', target: 'b' });
    const rebuilt = rebuildEdges([{ ...edge('e1'), selected: true }, edge('e2')], [edge('e1'), edge('e2'), edge('e3')]);
    expect(rebuilt.map((e) => [e.id, e.selected === true])).toEqual([
      ['e1', true],
      ['e2', false],
      ['e3', false],
    ]);
  });
});
