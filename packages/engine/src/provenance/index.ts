/** The provenance repository: the contract, and its file (durable), memory (volatile) and no-op implementations. */
export { FileProvenanceRepository } from './file-provenance-repository.ts';
export { DEFAULT_MAX_NODES } from './lineage.ts';
export { type MemoryProvenanceOptions, MemoryProvenanceRepository } from './memory-provenance-repository.ts';
export { NoopProvenanceRepository } from './noop-provenance-repository.ts';
export { DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT } from './query.ts';
export * from './types.ts';
