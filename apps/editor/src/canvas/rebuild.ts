import { type Edge, type Node, useStoreApi, useUpdateNodeInternals } from '@xyflow/react';
import { useEffect } from 'react';

// React Flow draws a connection only between nodes whose handles it has measured, and it keeps a
// node's handle positions only while the node it is given carries `measured`. A node rebuilt from
// a reloaded flow without it loses them and must be measured again, which React Flow does only
// when the node's wrapper notices in a render. When two reloads land between two renders (an undo
// pastes a processor, then re-creates its connection: two changes, two reloads), the wrapper of
// the new node can miss it, and its connection is never drawn.

/**
 * The canvas's nodes after a reload of the flow: `next` (built from the new flow), keeping what
 * React Flow learnt about the nodes it already shows: their selection and measured size (so
 * their handle positions survive the reload).
 */
export function rebuildNodes<N extends Node>(previous: readonly N[], next: readonly N[]): N[] {
  const before = new Map(previous.map((n) => [n.id, n]));
  return next.map((n) => {
    const old = before.get(n.id);
    if (old === undefined || (old.measured === undefined && old.selected !== true)) return n;
    return {
      ...n,
      ...(old.measured === undefined ? {} : { measured: old.measured }),
      ...(old.selected === true ? { selected: true } : {}),
    };
  });
}

/** The canvas's edges after a reload of the flow, keeping their selection. */
export function rebuildEdges<E extends Edge>(previous: readonly E[], next: readonly E[]): E[] {
  const selected = new Set(previous.filter((e) => e.selected === true).map((e) => e.id));
  return next.map((e) => (selected.has(e.id) ? { ...e, selected: true } : e));
}

/** How long after a change of the nodes the canvas looks for nodes React Flow failed to measure. */
const STRAGGLER_CHECK_MS = 200;

/**
 * Once the nodes have settled, measures any node on screen whose handles React Flow has not
 * measured (the race above), so its connections are drawn. Nodes not rendered (off screen in a
 * big flow) are left alone: React Flow measures them when they appear.
 */
export function useMeasureStragglers(nodes: readonly Node[]): void {
  const store = useStoreApi();
  const updateNodeInternals = useUpdateNodeInternals();
  useEffect(() => {
    if (nodes.length === 0) return;
    const timer = setTimeout(() => {
      const { nodeLookup, domNode } = store.getState();
      const stragglers: string[] = [];
      for (const element of domNode?.querySelectorAll<HTMLElement>('.react-flow__node') ?? []) {
        const id = element.dataset.id;
        if (id !== undefined && nodeLookup.get(id)?.internals.handleBounds === undefined) stragglers.push(id);
      }
      if (stragglers.length > 0) updateNodeInternals(stragglers);
    }, STRAGGLER_CHECK_MS);
    return () => clearTimeout(timer);
  }, [nodes, store, updateNodeInternals]);
}
