/** @sluice/processors: the standard processor library. */
import type { AnyProcessorDefinition, AnyServiceDefinition } from '@sluice/api';
import { GenerateFlowFile } from './generate-flow-file/index.ts';
import { GetFile } from './get-file/index.ts';
import * as content from './groups/content.ts';
import * as mqtt from './groups/mqtt.ts';
import * as network from './groups/network.ts';
import * as records from './groups/records.ts';
import * as routing from './groups/routing.ts';
import { LogAttribute } from './log-attribute/index.ts';
import { PutFile } from './put-file/index.ts';
import { RouteOnAttribute } from './route-on-attribute/index.ts';
import { UpdateAttribute } from './update-attribute/index.ts';

/** What an SSL context service provides (components of the server, like Remote Process Groups, use it too). */
export { SSL_CONTEXT_API, type SslContext } from './ssl-context-service/index.ts';
export { GenerateFlowFile, GetFile, LogAttribute, PutFile, RouteOnAttribute, UpdateAttribute };

// Each group registers its processors and services in its own file, so they grow independently.
const groups = [mqtt, network, records, content, routing];

/** Every standard processor type. */
export const standardProcessors: readonly AnyProcessorDefinition[] = [
  GenerateFlowFile,
  GetFile,
  LogAttribute,
  PutFile,
  RouteOnAttribute,
  UpdateAttribute,
  ...groups.flatMap((g) => g.processors),
];

/** Every standard controller service type. */
export const standardServices: readonly AnyServiceDefinition[] = groups.flatMap((g) => g.services);
