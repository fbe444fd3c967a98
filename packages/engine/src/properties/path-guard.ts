import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';

/**
 * Keeps file processors inside the directories an administrator allowed: a path is resolved,
 * symlinks in its existing part are followed, and the result must lie under an allowed root.
 * Rejects NUL bytes. (reference/reliability-perf.md §2.3: path traversal.)
 */
export class PathGuard {
  readonly #roots: readonly string[];

  constructor(roots: readonly string[]) {
    this.#roots = roots.map((r) => realOrResolved(resolve(r)));
  }

  /** The allowed roots, resolved. */
  get roots(): readonly string[] {
    return this.#roots;
  }

  /**
   * @returns the absolute path (symlinks in existing parents resolved).
   * @throws {Error} naming the path and the allowed roots when it is outside them.
   */
  resolve(path: string): string {
    if (path.includes('\0')) throw new Error(`path "${path.replaceAll('\0', '\\0')}" contains a NUL byte`);
    const absolute = isAbsolute(path) ? resolve(path) : resolve(process.cwd(), path);
    const real = realOrResolved(absolute);
    for (const root of this.#roots) {
      if (real === root || real.startsWith(root.endsWith(sep) ? root : root + sep)) return real;
    }
    throw new Error(
      `path "${path}" is outside the directories file processors may use (${this.#roots.join(', ')}); an administrator can allow more with --allow-path`,
    );
  }
}

/** realpath of the longest existing prefix, with the rest appended (the path may not exist yet). */
function realOrResolved(path: string): string {
  const rest: string[] = [];
  let current = path;
  for (;;) {
    try {
      const real = realpathSync(current);
      return rest.length === 0 ? real : join(real, ...rest.reverse());
    } catch {
      const parent = dirname(current);
      if (parent === current) return path;
      rest.push(basename(current));
      current = parent;
    }
  }
}
