import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from 'lowdb';
import type { z } from 'zod';

/**
 * Writes `text` to `path` so that a crash leaves either the old or the new file, never a torn one:
 * a temp file in the same directory, fsync, rename over the target, fsync the directory (so the
 * rename itself survives power loss). lowdb's own adapter renames without fsync.
 */
export async function writeFileAtomic(path: string, text: string, mode = 0o600): Promise<void> {
  const directory = dirname(path);
  const temp = join(directory, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'w', mode);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } catch (e) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw e;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
  const dir = await open(directory, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * A lowdb adapter for a JSON file: reads parse the file with a zod schema (a file on disk is input
 * like any other), writes go through {@link writeFileAtomic} one at a time in call order.
 */
export class AtomicJsonFile<T> implements Adapter<T> {
  readonly path: string;
  readonly #schema: z.ZodType<T>;
  readonly #mode: number;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(path: string, schema: z.ZodType<T>, mode = 0o600) {
    this.path = path;
    this.#schema = schema;
    this.#mode = mode;
  }

  /** @throws {Error} naming the file when it is not valid JSON or does not match the schema. */
  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if (e instanceof Error && 'code' in e && e.code === 'ENOENT') return null;
      throw e;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new Error(`${this.path} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    const parsed = this.#schema.safeParse(value);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new Error(
        `${this.path} is malformed: ${first === undefined ? 'unknown problem' : `${first.path.join('.')}: ${first.message}`}`,
      );
    }
    return parsed.data;
  }

  write(data: T): Promise<void> {
    const text = `${JSON.stringify(data, null, 2)}\n`;
    const run = this.#queue.then(() => writeFileAtomic(this.path, text, this.#mode));
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
