/**
 * Everything an expression may read while it is evaluated. Only `attribute` is required; every
 * other hook has a sensible default (no parameters, no environment, `localhost`, `Date.now`, ...).
 * Names are passed through as given: implementations must not index plain objects with them (use a
 * Map), because users control names such as `__proto__`.
 */
export interface EvaluationContext {
  /** A FlowFile attribute, or undefined when the FlowFile has none of that name. */
  attribute(name: string): string | undefined;
  /** All attribute names, for anyMatchingAttribute / allMatchingAttributes. */
  attributeNames?(): Iterable<string>;
  /** A parameter's raw value (it may itself contain Expression Language), or undefined. */
  parameter?(name: string): string | undefined;
  /** Fallback for names that are not attributes (NiFi: environment variables / system properties). */
  environment?(name: string): string | undefined;
  /** Component state, for getStateValue. */
  state?(key: string): string | undefined;
  /** Host name for hostname(); default `localhost`. */
  hostname?(fullyQualified: boolean): string;
  /** IP address for ip(); default `127.0.0.1`. */
  ip?(): string;
  /** Current time in epoch ms; default `Date.now()`. */
  now?(): number;
  /** Optional digest provider (e.g. node:crypto) returning lowercase hex; undefined falls back to pure JS. */
  hash?(algorithm: string, text: string): string | undefined;
}
