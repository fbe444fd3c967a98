/** The routing group of the standard library: its processors and controller services, registered by ../index.ts. */
import type { AnyProcessorDefinition, AnyServiceDefinition } from '@sluice/api';
import { AttributesToJSON } from '../attributes-to-json/index.ts';
import { ControlRate } from '../control-rate/index.ts';
import { DetectDuplicate } from '../detect-duplicate/index.ts';
import { DistributeLoad } from '../distribute-load/index.ts';
import { DistributedMapCache } from '../distributed-map-cache/index.ts';
import { EvaluateJsonPath } from '../evaluate-json-path/index.ts';
import { ExtractText } from '../extract-text/index.ts';
import { FetchFile } from '../fetch-file/index.ts';
import { ListFile } from '../list-file/index.ts';
import { LogMessage } from '../log-message/index.ts';
import { Notify } from '../notify/index.ts';
import { RouteOnContent } from '../route-on-content/index.ts';
import { RouteText } from '../route-text/index.ts';
import { TailFile } from '../tail-file/index.ts';
import { Wait } from '../wait/index.ts';

export const processors: readonly AnyProcessorDefinition[] = [
  ListFile,
  FetchFile,
  TailFile,
  RouteOnContent,
  RouteText,
  EvaluateJsonPath,
  ExtractText,
  AttributesToJSON,
  LogMessage,
  DistributeLoad,
  ControlRate,
  DetectDuplicate,
  Wait,
  Notify,
];
export const services: readonly AnyServiceDefinition[] = [DistributedMapCache];
