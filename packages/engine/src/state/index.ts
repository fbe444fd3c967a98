export { compareKeys, prefixUpperBound } from './key-order.ts';
export { MemoryStateStore } from './memory-state-store.ts';
export type { ScanOptions } from './overlay-state-store.ts';
export { OverlayStateStore } from './overlay-state-store.ts';
export { SqliteStateStore } from './sqlite-state-store.ts';
