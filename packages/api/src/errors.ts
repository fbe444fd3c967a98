/**
 * Thrown by a processor for an expected failure of its work (a remote system refused, a record
 * was bad): the framework rolls the session back and penalizes the FlowFiles, but does not yield
 * the processor as it does for unexpected errors.
 */
export class ProcessException extends Error {
  override readonly name = 'ProcessException';
}

/** Thrown by `session.read` when content is larger than the caller allowed in memory. */
export class ContentTooLargeError extends Error {
  override readonly name = 'ContentTooLargeError';
  constructor(
    readonly size: number,
    readonly maxBytes: number,
  ) {
    super(`content of ${size} bytes is larger than the ${maxBytes} bytes allowed in memory; stream it with readStream`);
  }
}

/** A property value that cannot be used: names the property and what is wrong. */
export class PropertyValueError extends Error {
  override readonly name = 'PropertyValueError';
  constructor(
    readonly property: string,
    readonly problem: string,
  ) {
    super(`property "${property}": ${problem}`);
  }
}
