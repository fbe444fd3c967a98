import type { AnyServiceDefinition, ComponentLogger, PropertyValue, ServiceContext } from '@sluice/api';
import type { ControllerServiceDefinition } from '../flow/flow-definition.ts';
import { ConfiguredProperty, type PropertyEnvironment } from '../properties/configured-property.ts';

/** A controller service at run time: configuration, enabled state and the object it provides. */
export class ServiceNode {
  readonly id: string;
  readonly groupId: string;
  readonly type: AnyServiceDefinition;
  definition: ControllerServiceDefinition;
  validationErrors: string[] = [];
  readonly logger: ComponentLogger;
  #instance: unknown;
  #context: ServiceContext | undefined;
  #enabled = false;
  /** The last enable failure, shown to users. */
  lastError: string | undefined;

  constructor(
    id: string,
    groupId: string,
    type: AnyServiceDefinition,
    definition: ControllerServiceDefinition,
    logger: ComponentLogger,
  ) {
    this.id = id;
    this.groupId = groupId;
    this.type = type;
    this.definition = definition;
    this.logger = logger;
  }

  get name(): string {
    return this.definition.name;
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  /** The object processors receive; only valid while enabled. */
  get instance(): unknown {
    return this.#instance;
  }

  /** Ids of services this one references through `service` properties. */
  referencedServices(): string[] {
    const out: string[] = [];
    for (const [name, descriptor] of Object.entries(this.type.properties)) {
      const value = this.definition.properties[name];
      if (descriptor.kind === 'service' && typeof value === 'string' && value !== '') out.push(value);
    }
    return out;
  }

  /**
   * Enables the service. A failure leaves it disabled with the error logged (and returned), so the
   * processors that need it stay invalid instead of crashing.
   */
  async enable(
    env: PropertyEnvironment,
    lookup: (id: string) => ServiceNode | undefined,
    resolvePath: (path: string) => string,
  ): Promise<string | undefined> {
    if (this.#enabled) return undefined;
    const properties = new Map<string, PropertyValue>();
    for (const [name, descriptor] of Object.entries(this.type.properties)) {
      const raw = this.definition.properties[name];
      properties.set(name, new ConfiguredProperty(name, descriptor, raw ?? descriptor.default, env, descriptor.expression));
    }
    const dynamic = new Map<string, PropertyValue>();
    for (const [name, raw] of Object.entries(this.definition.properties)) {
      if (!Object.hasOwn(this.type.properties, name) && raw !== null)
        dynamic.set(name, new ConfiguredProperty(name, undefined, raw, env, 'none'));
    }
    const property = (name: string): PropertyValue => {
      const value = properties.get(name);
      if (value === undefined) throw new Error(`${this.type.type} has no property "${name}"`);
      return value;
    };
    const context: ServiceContext = {
      componentId: this.id,
      name: this.name,
      getProperty: property,
      dynamicProperties: dynamic,
      logger: this.logger,
      resolvePath,
      getService: <T>(name: string): T => {
        const target = lookup(property(name).evaluate() ?? '');
        if (target === undefined || !target.enabled) throw new Error(`service referenced by "${name}" is not enabled`);
        // Checked at validation: the referenced service provides the API the property names.
        return target.instance as T;
      },
    };
    try {
      this.#instance = await this.type.enable(context);
      this.#context = context;
      this.#enabled = true;
      this.lastError = undefined;
      return undefined;
    } catch (e) {
      this.lastError = e instanceof Error ? e.message : String(e);
      this.logger.error('failed to enable', e);
      return this.lastError;
    }
  }

  /** Disables the service (its `disable` hook runs; errors are logged, not thrown). */
  async disable(): Promise<void> {
    if (!this.#enabled) return;
    this.#enabled = false;
    const context = this.#context;
    try {
      if (context !== undefined) await this.type.disable?.(this.#instance, context);
    } catch (e) {
      this.logger.warn('failed to disable cleanly', e);
    } finally {
      this.#instance = undefined;
      this.#context = undefined;
    }
  }
}
