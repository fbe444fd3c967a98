export { FileFlowFileRepository } from './file-flowfile-repository.ts';
export type * from './types.ts';
export { VolatileFlowFileRepository, type VolatileFlowFileRepositoryOptions } from './volatile-flowfile-repository.ts';
