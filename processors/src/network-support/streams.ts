/** Limits and error factories for {@link guardedChunks}. */
export interface StreamGuard {
  /** Longest wait for the next chunk. */
  readonly idleTimeoutMs: number;
  /** Most bytes in all. */
  readonly maxBytes: number;
  readonly stalled: () => Error;
  readonly tooLarge: () => Error;
  /** Wraps an error of the source (connection reset, corrupt encoding). */
  readonly failed: (error: unknown) => Error;
}

/**
 * Passes a stream's Buffer chunks through, failing with the guard's errors when the next chunk takes
 * longer than the idle timeout or the total exceeds the limit. On a stall the source is left
 * as it is (its pending read fails quietly later): the caller decides whether to destroy it or to
 * still answer on its connection.
 */
export async function* guardedChunks(source: AsyncIterable<unknown>, guard: StreamGuard): AsyncGenerator<Buffer> {
  let received = 0;
  const iterator = source[Symbol.asyncIterator]();
  for (;;) {
    const next = iterator.next();
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<'stalled'>((resolve) => {
      timer = setTimeout(() => resolve('stalled'), guard.idleTimeoutMs);
    });
    let result: IteratorResult<unknown> | 'stalled';
    try {
      result = await Promise.race([next, stalled]);
    } catch (error) {
      throw guard.failed(error);
    } finally {
      clearTimeout(timer);
    }
    if (result === 'stalled') {
      next.catch(() => undefined);
      throw guard.stalled();
    }
    if (result.done === true) return;
    const chunk = result.value;
    if (!(chunk instanceof Buffer)) continue;
    received += chunk.length;
    if (received > guard.maxBytes) throw guard.tooLarge();
    yield chunk;
  }
}
