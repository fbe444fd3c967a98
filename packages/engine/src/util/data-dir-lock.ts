import { closeSync, mkdirSync, openSync, readFileSync, realpathSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Lock files held by this process. The pid in a lock file cannot tell two engines of one process
 * apart, so without this a second engine in the same process would take the first one's lock as stale.
 */
const heldByThisProcess = new Set<string>();

/**
 * An exclusive lock on a data directory (a `sluice.lock` file holding the owner's pid): two engines
 * writing one journal would corrupt it. A lock left by a process that no longer runs (kill -9) is
 * taken over.
 */
export class DataDirLock {
  readonly #path: string;
  readonly #key: string;
  #held = false;

  private constructor(path: string, key: string) {
    this.#path = path;
    this.#key = key;
  }

  /** @throws {Error} naming the directory and the pid holding it. */
  static acquire(dataDir: string): DataDirLock {
    mkdirSync(dataDir, { recursive: true });
    const path = join(dataDir, 'sluice.lock');
    const key = join(realpathSync(dataDir), 'sluice.lock');
    if (heldByThisProcess.has(key)) {
      throw new Error(
        `data directory ${dataDir} is in use by another engine in this process; shut it down first or use another --data-dir`,
      );
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        const lock = new DataDirLock(path, key);
        lock.#held = true;
        heldByThisProcess.add(key);
        return lock;
      } catch (e) {
        if (!(e instanceof Error && 'code' in e && e.code === 'EEXIST')) throw e;
        const pid = Number(readFileSync(path, 'utf8').trim());
        if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
          throw new Error(
            `data directory ${dataDir} is in use by another Sluice process (pid ${pid}); stop it or use another --data-dir`,
          );
        }
        rmSync(path, { force: true }); // stale: its owner is gone
      }
    }
    throw new Error(`could not lock data directory ${dataDir}`);
  }

  /** Releases the lock (idempotent). */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    heldByThisProcess.delete(this.#key);
    rmSync(this.#path, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e instanceof Error && 'code' in e && e.code === 'EPERM';
  }
}
