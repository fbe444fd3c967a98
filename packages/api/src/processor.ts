import type { FlowFile } from './flowfile.ts';
import type { ComponentLogger } from './logger.ts';
import type { ExpressionScope, PropertyDescriptor } from './properties.ts';
import type { ProcessSession, StateReader } from './session.ts';

/**
 * A configured property as the running component sees it. Values are strings, as in NiFi; the
 * `as*` helpers evaluate Expression Language (when the descriptor allows it) and convert, throwing a
 * PropertyValueError that names the property when the result does not fit.
 */
export interface PropertyValue {
  /** The configured value, else the default, else undefined. */
  readonly raw: string | undefined;
  /** Whether a value (configured or default) exists. */
  readonly isSet: boolean;
  /** Evaluates Expression Language against the FlowFile's attributes (and extra variables). */
  evaluate(flowFile?: FlowFile, variables?: ReadonlyMap<string, string>): string | undefined;
  asString(flowFile?: FlowFile): string | undefined;
  asInteger(flowFile?: FlowFile): number | undefined;
  asNumber(flowFile?: FlowFile): number | undefined;
  asBoolean(flowFile?: FlowFile): boolean | undefined;
  /** Milliseconds. */
  asTimePeriod(flowFile?: FlowFile): number | undefined;
  /** Bytes. */
  asDataSize(flowFile?: FlowFile): number | undefined;
  asRegExp(flowFile?: FlowFile, flags?: string): RegExp | undefined;
  /** The value as a compiled JSONPath (`json-path` properties, and dynamic ones declared as paths). */
  asJsonPath(flowFile?: FlowFile): JsonPathQuery | undefined;
}

/** A compiled JSONPath expression. */
export interface JsonPathQuery {
  readonly source: string;
  /** True when the path can match at most one value (no wildcards, filters, slices or recursion). */
  readonly definite: boolean;
  /** Every value the path matches in a parsed JSON document, in document order. */
  evaluate(document: unknown): unknown[];
}

/** What a component is given at run time. Property names are the keys the definition declared. */
export interface ProcessContext<P extends string = string> {
  readonly componentId: string;
  readonly name: string;
  readonly type: string;
  getProperty(name: P): PropertyValue;
  /** User-added properties of processors that declare `dynamicProperties`, in configuration order. */
  readonly dynamicProperties: ReadonlyMap<string, PropertyValue>;
  /** Relationships this processor has now (declared plus dynamic). */
  readonly relationships: ReadonlySet<string>;
  /** Relationships that are connected or auto-terminated (a FlowFile sent elsewhere is an error). */
  isRelationshipAvailable(relationship: string): boolean;
  /** Whether any connection feeds this processor (NiFi's hasIncomingConnection). */
  hasIncomingConnection(): boolean;
  /**
   * Relationships that can take FlowFiles now: auto-terminated ones, and those none of whose
   * connections is full (NiFi's getAvailableRelationships). A source that accepts data from
   * outside (HTTP, MQTT) can refuse it early when its relationship is not available.
   */
  availableRelationships(): ReadonlySet<string>;
  /**
   * Resolves a file-system path (relative to the working directory) and checks that it lies under a
   * root the administrator allowed, after following symlinks. File processors must use it for every
   * path they touch.
   * @throws {PropertyValueError}-like Error naming the path when it is outside every allowed root.
   */
  resolvePath(path: string): string;
  /** Stops scheduling this processor for its yield duration (e.g. a remote system is down). */
  yield(): void;
  /** Whether the processor is still scheduled; long-running triggers should check it. */
  isScheduled(): boolean;
  readonly maxConcurrentTasks: number;
  readonly logger: ComponentLogger;
  /** Read-only view of this component's state (write through the session). */
  readonly state: StateReader;
  /** The enabled controller service a `service` property points to. */
  getService<T>(property: P): T;
}

/** Passed to a definition's `validate` for checks across properties. */
export interface ValidationContext<P extends string = string> {
  getProperty(name: P): PropertyValue;
  readonly dynamicProperties: ReadonlyMap<string, PropertyValue>;
}

/** How user-added ("dynamic") properties behave. */
export interface DynamicPropertiesSpec {
  readonly description: string;
  /** `boolean-expression`: each value must be an expression producing true/false. */
  readonly valueIs?: 'string' | 'expression' | 'boolean-expression' | 'json-path';
  readonly expression?: ExpressionScope;
  /**
   * Each dynamic property also becomes a relationship of the same name (RouteOnAttribute), always
   * or only while another property has one of some values.
   */
  readonly createsRelationship?:
    | boolean
    | { readonly dependsOn: { readonly property: string; readonly values: readonly string[] } };
  readonly sensitive?: boolean;
  readonly validate?: (name: string, value: string) => string | undefined;
}

/** A relationship's description, optionally with the property values under which it exists. */
export type RelationshipSpec =
  | string
  | { readonly description: string; readonly dependsOn: { readonly property: string; readonly values: readonly string[] } };

/** The description of a relationship spec. */
export function relationshipDescription(spec: RelationshipSpec): string {
  return typeof spec === 'string' ? spec : spec.description;
}

/**
 * The relationships a processor has under a configuration: declared ones whose condition holds,
 * plus one per dynamic property when the processor creates relationships from them.
 */
export function activeRelationships(
  definition: Pick<ProcessorDefinition, 'relationships' | 'properties' | 'dynamicProperties'>,
  configured: Readonly<Record<string, string | null>>,
): Set<string> {
  const value = (name: string): string | undefined => {
    const v = Object.hasOwn(configured, name) ? configured[name] : undefined;
    return v === null || v === undefined ? definition.properties[name]?.default : v;
  };
  const out = new Set<string>();
  for (const [name, spec] of Object.entries(definition.relationships)) {
    if (typeof spec === 'string' || spec.dependsOn.values.includes(value(spec.dependsOn.property) ?? '')) out.add(name);
  }
  const creates = definition.dynamicProperties?.createsRelationship;
  if (
    creates === true ||
    (typeof creates === 'object' && creates.dependsOn.values.includes(value(creates.dependsOn.property) ?? ''))
  ) {
    for (const [name, v] of Object.entries(configured)) {
      if (!Object.hasOwn(definition.properties, name) && v !== null) out.add(name);
    }
  }
  return out;
}

/** Scheduling defaults a processor suggests; users may change them. */
export interface DefaultSchedule {
  readonly strategy?: 'timer' | 'cron';
  /** Timer period ("0 sec" = as fast as work allows) or a Quartz cron expression. */
  readonly period?: string;
  readonly concurrentTasks?: number;
  readonly runDuration?: string;
  readonly penaltyDuration?: string;
  readonly yieldDuration?: string;
}

/**
 * A processor type, declared once as data. `S` is whatever `onScheduled` returns (connections,
 * servers, compiled rules); the framework hands it back to `onTrigger` and `onStopped`.
 */
export interface ProcessorDefinition<
  P extends Record<string, PropertyDescriptor> = Record<string, PropertyDescriptor>,
  S = unknown,
> {
  /** VerbObject, unique: `RouteOnAttribute`. */
  readonly type: string;
  readonly description: string;
  readonly tags: readonly string[];
  /** Whether the processor needs incoming connections. */
  readonly input: 'required' | 'allowed' | 'forbidden';
  readonly properties: P;
  readonly dynamicProperties?: DynamicPropertiesSpec;
  /**
   * Declared relationships: lowercase name -> what is sent there. A relationship may exist only
   * while a property has certain values (RouteOnAttribute's `matched`).
   */
  readonly relationships: Readonly<Record<string, RelationshipSpec>>;
  readonly readsAttributes?: Readonly<Record<string, string>>;
  readonly writesAttributes?: Readonly<Record<string, string>>;
  readonly defaultSchedule?: DefaultSchedule;
  /** Never run more than one task at a time, whatever the concurrency setting. */
  readonly triggerSerially?: boolean;
  /** Trigger even when there is no input queued (for processors that poll their own buffers). */
  readonly triggerWhenEmpty?: boolean;
  /** Trigger when at least one relationship can take data (default: all outbound queues not full). */
  readonly triggerWhenAnyDestinationAvailable?: boolean;
  /** The framework may batch several triggers into one commit (run duration). */
  readonly supportsBatching?: boolean;
  /** Why this processor needs extra permission (file system, network, code); absent if none. */
  readonly restricted?: string;
  readonly seeAlso?: readonly string[];
  /** Checks across properties; returns problems, each saying what to change. */
  validate?(context: ValidationContext<Extract<keyof P, string>>): string[];
  onScheduled?(context: ProcessContext<Extract<keyof P, string>>): S | Promise<S>;
  onTrigger(session: ProcessSession, context: ProcessContext<Extract<keyof P, string>>, scheduled: S): void | Promise<void>;
  /** Called when the processor stops being scheduled; triggers may still be running. */
  onUnscheduled?(context: ProcessContext<Extract<keyof P, string>>, scheduled: S): void | Promise<void>;
  /** Called once every trigger has finished after a stop. */
  onStopped?(context: ProcessContext<Extract<keyof P, string>>, scheduled: S): void | Promise<void>;
}

/** A processor definition with its generics erased, as registries hold them. */
export type AnyProcessorDefinition = ProcessorDefinition<Record<string, PropertyDescriptor>, unknown>;

// Lowercase, as NiFi's; a leading digit is allowed (DistributeLoad's 1..N).
const RELATIONSHIP_NAME = /^[a-z0-9][a-z0-9 _.-]*$/;

/**
 * Declares a processor type. Checks the declaration itself (names, defaults against their own
 * descriptors) so a broken processor fails at import, not at run time.
 * @throws {Error} naming the processor and the faulty declaration.
 */
export function defineProcessor<P extends Record<string, PropertyDescriptor>, S = undefined>(
  definition: ProcessorDefinition<P, S>,
): ProcessorDefinition<P, S> {
  if (!/^[A-Z][A-Za-z0-9]*$/.test(definition.type)) {
    throw new Error(`processor type "${definition.type}" must be PascalCase VerbObject, like RouteOnAttribute`);
  }
  for (const [name, spec] of Object.entries(definition.relationships)) {
    if (!RELATIONSHIP_NAME.test(name)) {
      throw new Error(`${definition.type}: relationship "${name}" must be lowercase`);
    }
    if (typeof spec !== 'string' && !Object.hasOwn(definition.properties, spec.dependsOn.property)) {
      throw new Error(`${definition.type}: relationship "${name}" depends on unknown property "${spec.dependsOn.property}"`);
    }
  }
  for (const [name, descriptor] of Object.entries(definition.properties)) {
    if (descriptor.kind === 'choice' && descriptor.default !== undefined) {
      if (!descriptor.allowableValues?.some((a) => a.value === descriptor.default)) {
        throw new Error(`${definition.type}: default "${descriptor.default}" of property "${name}" is not an allowed value`);
      }
    }
    if (descriptor.dependsOn !== undefined && !Object.hasOwn(definition.properties, descriptor.dependsOn.property)) {
      throw new Error(`${definition.type}: property "${name}" depends on unknown property "${descriptor.dependsOn.property}"`);
    }
  }
  return Object.freeze(definition);
}
