import type { ELK as ElkEngine } from 'elkjs/lib/elk-api.js';

/** A box to lay out and the links between boxes. */
export interface LayoutInput {
  readonly nodes: readonly { readonly id: string; readonly width: number; readonly height: number }[];
  readonly links: readonly { readonly source: string; readonly target: string }[];
}

// elkjs is large (~1.5 MB): loaded on first use, so the canvas renders without it.
let elk: Promise<ElkEngine> | undefined;
function engine(): Promise<ElkEngine> {
  elk ??= import('elkjs/lib/elk.bundled.js').then((m) => new m.default());
  return elk;
}

/**
 * Layered top-down layout (elkjs), used by the canvas's auto-layout and the lineage graph.
 * Returns the top-left position of every node.
 */
export async function layeredLayout(input: LayoutInput, spacing = 60): Promise<Map<string, { x: number; y: number }>> {
  const ids = new Set(input.nodes.map((n) => n.id));
  const graph = await (await engine()).layout({
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.spacing.nodeNode': String(spacing),
      'elk.layered.spacing.nodeNodeBetweenLayers': String(spacing),
    },
    children: input.nodes.map((n) => ({ id: n.id, width: n.width, height: n.height })),
    edges: input.links
      .filter((l) => ids.has(l.source) && ids.has(l.target) && l.source !== l.target)
      .map((l, i) => ({ id: `e${i}`, sources: [l.source], targets: [l.target] })),
  });
  const positions = new Map<string, { x: number; y: number }>();
  for (const child of graph.children ?? []) positions.set(child.id, { x: child.x ?? 0, y: child.y ?? 0 });
  return positions;
}
