/** The content repository: where FlowFile content lives (see `types.ts` for the contract). */
export { FileContentRepository } from './file-content-repository.ts';
export {
  MemoryContentRepository,
  type MemoryContentRepositoryOptions,
  type MemoryContentRepositorySettings,
} from './memory-content-repository.ts';
export {
  ContentNotFoundError,
  type ContentRepository,
  ContentRepositoryFullError,
  type ContentRepositoryOptions,
  type ContentRepositorySettings,
  type ContentRepositoryStats,
  type ContentWriter,
} from './types.ts';
