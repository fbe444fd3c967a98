/**
 * An Expression Language problem: a syntax error found by `compile`, or a runtime failure found by
 * `evaluate` (a value a function cannot handle). `position` is the 0-based offset in the template the
 * problem is about and `length` how many characters it spans (at least 1), so an editor can
 * underline it. The message is written for the person who typed the template.
 */
export class ExpressionError extends Error {
  /** 0-based offset in the template. */
  readonly position: number;
  /** Number of characters the problem spans (at least 1). */
  readonly length: number;

  constructor(message: string, position: number, length = 1) {
    super(message);
    this.name = 'ExpressionError';
    this.position = position;
    this.length = Math.max(1, length);
  }
}

/**
 * A failure raised deep inside a function implementation that does not know where in the template
 * it was called from. The evaluator catches it at the function call and turns it into an
 * ExpressionError that names the function and the position.
 */
export class ElFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ElFailure';
  }
}

/** Shorthand used by function implementations: `throw fail('cannot ...')`. */
export function fail(message: string): ElFailure {
  return new ElFailure(message);
}

/** Quotes a value for an error message, shortened so a huge attribute does not flood the message. */
export function quote(value: string, max = 60): string {
  const shown = value.length > max ? `${value.slice(0, max)}…` : value;
  return `"${shown}"`;
}
