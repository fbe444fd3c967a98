/** @sluice/processors: the standard processor library. */
import type { AnyProcessorDefinition, AnyServiceDefinition } from '@sluice/api';
import { GenerateFlowFile } from './generate-flow-file/index.ts';
import { GetFile } from './get-file/index.ts';
import { LogAttribute } from './log-attribute/index.ts';
import { PutFile } from './put-file/index.ts';
import { RouteOnAttribute } from './route-on-attribute/index.ts';
import { UpdateAttribute } from './update-attribute/index.ts';

export { GenerateFlowFile, GetFile, LogAttribute, PutFile, RouteOnAttribute, UpdateAttribute };

/** Every standard processor type. */
export const standardProcessors: readonly AnyProcessorDefinition[] = [
  GenerateFlowFile,
  GetFile,
  LogAttribute,
  PutFile,
  RouteOnAttribute,
  UpdateAttribute,
];

/** Every standard controller service type. */
export const standardServices: readonly AnyServiceDefinition[] = [];
