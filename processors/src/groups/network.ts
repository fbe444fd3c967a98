/** The network group of the standard library: its processors and controller services, registered by ../index.ts. */
import type { AnyProcessorDefinition, AnyServiceDefinition } from '@sluice/api';
import { HandleHttpRequest } from '../handle-http-request/index.ts';
import { HandleHttpResponse } from '../handle-http-response/index.ts';
import { StandardHttpContextMap } from '../http-context-map/index.ts';
import { InvokeHTTP } from '../invoke-http/index.ts';
import { ListenHTTP } from '../listen-http/index.ts';
import { ListenSyslog } from '../listen-syslog/index.ts';
import { ListenUDP } from '../listen-udp/index.ts';
import { StandardSSLContextService } from '../ssl-context-service/index.ts';

export const processors: readonly AnyProcessorDefinition[] = [
  ListenHTTP,
  HandleHttpRequest,
  HandleHttpResponse,
  InvokeHTTP,
  ListenUDP,
  ListenSyslog,
];
export const services: readonly AnyServiceDefinition[] = [StandardHttpContextMap, StandardSSLContextService];
