export {
  ConnectionQueue,
  type ConnectionQueueOptions,
  DEFAULT_SWAP_BATCH_SIZE,
  DEFAULT_SWAP_THRESHOLD,
  type DropResult,
  type PollFilter,
  type PollFilterResult,
} from './connection-queue.ts';
export { MemorySwapManager } from './memory-swap-manager.ts';
export {
  PRIORITIZERS,
  type PrioritizerName,
  type QueueListener,
  type QueueListingEntry,
  type QueueSettings,
  type QueueSize,
  type SwapManager,
} from './types.ts';
