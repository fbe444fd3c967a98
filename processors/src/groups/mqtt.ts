/** The mqtt group of the standard library: its processors and controller services, registered by ../index.ts. */
import type { AnyProcessorDefinition, AnyServiceDefinition } from '@sluice/api';

export const processors: readonly AnyProcessorDefinition[] = [];
export const services: readonly AnyServiceDefinition[] = [];
