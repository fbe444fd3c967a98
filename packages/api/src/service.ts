import type { ComponentLogger } from './logger.ts';
import type { PropertyValue, ValidationContext } from './processor.ts';
import type { PropertyDescriptor } from './properties.ts';

/** What a controller service receives when it is enabled. */
export interface ServiceContext<P extends string = string> {
  readonly componentId: string;
  readonly name: string;
  getProperty(name: P): PropertyValue;
  readonly dynamicProperties: ReadonlyMap<string, PropertyValue>;
  readonly logger: ComponentLogger;
  /** Another enabled service this one references through a `service` property. */
  getService<T>(property: P): T;
  /**
   * Resolves a file-system path and checks it lies under a root the administrator allowed (as
   * ProcessContext.resolvePath). Services that read or write files must use it.
   * @throws {Error} naming the path when it is outside every allowed root.
   */
  resolvePath(path: string): string;
}

/**
 * A controller service type: shared configuration and resources (a broker connection, a pool, a
 * record reader) that processors reference by id. `T` is the object processors receive.
 */
export interface ServiceDefinition<
  P extends Record<string, PropertyDescriptor> = Record<string, PropertyDescriptor>,
  T = unknown,
> {
  readonly type: string;
  readonly description: string;
  readonly tags: readonly string[];
  /** The APIs this service provides; `service(api)` properties accept services providing `api`. */
  readonly provides: readonly string[];
  readonly properties: P;
  readonly restricted?: string;
  validate?(context: ValidationContext<Extract<keyof P, string>>): string[];
  /** Creates the service object; a rejection leaves the service disabled with the error shown. */
  enable(context: ServiceContext<Extract<keyof P, string>>): T | Promise<T>;
  disable?(instance: T, context: ServiceContext<Extract<keyof P, string>>): void | Promise<void>;
}

/** A service definition with its generics erased, as registries hold them. */
export type AnyServiceDefinition = ServiceDefinition<Record<string, PropertyDescriptor>, unknown>;

/**
 * Declares a controller service type.
 * @throws {Error} when the declaration is malformed.
 */
export function defineService<P extends Record<string, PropertyDescriptor>, T>(
  definition: ServiceDefinition<P, T>,
): ServiceDefinition<P, T> {
  if (!/^[A-Z][A-Za-z0-9]*$/.test(definition.type)) {
    throw new Error(`service type "${definition.type}" must be PascalCase`);
  }
  if (definition.provides.length === 0) {
    throw new Error(`${definition.type}: a service must provide at least one API`);
  }
  return Object.freeze(definition);
}
