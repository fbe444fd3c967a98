import { type FlowFragment, flowFragmentSchema } from '@sluice/protocol';
import { describe, expect, it } from 'vitest';
import { fragmentSize, offsetTo } from './snippets.ts';

// The store's traffic with the server (save, list, replace, remove, moving this browser's old
// snippets to the server, a viewer seeing them) runs against the real server in
// e2e/panels.spec.ts; the routes themselves are tested over HTTP in apps/server/src/snippets.test.ts.

const fragment: FlowFragment = flowFragmentSchema.parse({
  processors: [
    { id: 'a', name: 'A', type: 'GenerateFlowFile', position: { x: 100, y: 200 } },
    { id: 'b', name: 'B', type: 'LogAttribute', position: { x: 140, y: 400 } },
  ],
  connections: [{ id: 'c', source: { id: 'a' }, destination: { id: 'b' }, relationships: ['success'] }],
  labels: [{ id: 'l', text: 'note', position: { x: 60, y: 260 } }],
});

describe('snippets', () => {
  it('counts components and offsets the top-left one to the drop point', () => {
    expect(fragmentSize(fragment)).toBe(3);
    expect(offsetTo(fragment, { x: 500, y: 500 })).toEqual({ x: 440, y: 300 });
  });
});
