import { routes } from '@sluice/protocol';
import { processorTypeDto, serviceTypeDto } from '../dto.ts';
import { notFound } from '../http/errors.ts';
import { bind } from '../http/router.ts';
import type { ServerContext } from '../server-context.ts';

/** Processor and controller service types with their descriptors (read from the registry each time: it may grow). */
export function typeRoutes(context: ServerContext) {
  return {
    listProcessorTypes: bind(routes.listProcessorTypes, () => ({
      types: context.registry.processorTypes().map(processorTypeDto),
    })),
    getProcessorType: bind(routes.getProcessorType, ({ params }) => {
      const definition = context.registry.processor(params.type);
      if (definition === undefined) throw notFound(`processor type "${params.type}"`);
      return processorTypeDto(definition);
    }),
    listServiceTypes: bind(routes.listServiceTypes, () => ({ types: context.registry.serviceTypes().map(serviceTypeDto) })),
    getServiceType: bind(routes.getServiceType, ({ params }) => {
      const definition = context.registry.service(params.type);
      if (definition === undefined) throw notFound(`controller service type "${params.type}"`);
      return serviceTypeDto(definition);
    }),
  };
}
