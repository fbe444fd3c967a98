import { statSync } from 'node:fs';
import { join } from 'node:path';
import { type Role, roleSchema, usernameSchema } from '@sluice/protocol';
import { Low } from 'lowdb';
import { z } from 'zod';
import { AtomicJsonFile } from '../store/atomic-json-file.ts';
import { generatePassword, hashPassword, verifyPassword } from './passwords.ts';

const usersFileSchema = z.object({
  format: z.literal(1),
  users: z.array(z.object({ username: usernameSchema, role: roleSchema, passwordHash: z.string().min(1) })),
});
type UsersFile = z.infer<typeof usersFileSchema>;

/** A user as the rest of the server sees it. */
export interface User {
  readonly username: string;
  readonly role: Role;
}

/** Thrown for an operation on a user that does not exist. */
export class UserNotFoundError extends Error {
  override readonly name = 'UserNotFoundError';
}

/** Thrown for a user operation that would break a rule (last admin, duplicate name). */
export class UserConflictError extends Error {
  override readonly name = 'UserConflictError';
}

// Verifying against this when the user does not exist keeps a login's timing from telling whether
// a username exists.
let dummyHash: Promise<string> | undefined;

/**
 * Users and their scrypt password hashes in `<dataDir>/users.json` (mode 0600, written atomically).
 * A new data directory gets one admin with a generated password (see {@link UserStore.open}).
 */
export class UserStore {
  readonly path: string;
  readonly #db: Low<UsersFile>;
  #queue: Promise<unknown> = Promise.resolve();
  #mtimeMs = 0;

  private constructor(dataDir: string) {
    this.path = join(dataDir, 'users.json');
    this.#db = new Low<UsersFile>(new AtomicJsonFile(this.path, usersFileSchema), { format: 1, users: [] });
  }

  /**
   * Opens the users file. When there is none (first start), creates the user `admin` with a random
   * password and returns it as `generated`, to be shown once: only its hash is stored.
   */
  static async open(dataDir: string): Promise<{ store: UserStore; generated?: { username: string; password: string } }> {
    const store = new UserStore(dataDir);
    await store.#db.read();
    store.#mtimeMs = store.#fileTime();
    if (store.#db.data.users.length > 0) return { store };
    const password = generatePassword();
    await store.set('admin', { password, role: 'admin' });
    return { store, generated: { username: 'admin', password } };
  }

  /** Reads the file again when it changed on disk (`sluice set-credentials` while the server runs). */
  async refresh(): Promise<void> {
    if (this.#fileTime() === this.#mtimeMs) return;
    await this.#serial(() => this.#reloadIfChanged());
  }

  async #reloadIfChanged(): Promise<void> {
    const time = this.#fileTime();
    if (time === this.#mtimeMs) return;
    await this.#db.read();
    this.#mtimeMs = time;
  }

  #fileTime(): number {
    try {
      return statSync(this.path).mtimeMs;
    } catch {
      return 0;
    }
  }

  list(): User[] {
    return this.#db.data.users.map(({ username, role }) => ({ username, role }));
  }

  get(username: string): User | undefined {
    const user = this.#db.data.users.find((u) => u.username === username);
    return user === undefined ? undefined : { username: user.username, role: user.role };
  }

  /** The user if the password is right, else undefined (same time either way). */
  async authenticate(username: string, password: string): Promise<User | undefined> {
    await this.refresh();
    const user = this.#db.data.users.find((u) => u.username === username);
    if (user === undefined) {
      dummyHash ??= hashPassword(generatePassword());
      await verifyPassword(password, await dummyHash);
      return undefined;
    }
    return (await verifyPassword(password, user.passwordHash)) ? { username: user.username, role: user.role } : undefined;
  }

  /**
   * Creates or changes a user (password and/or role).
   * @throws {UserConflictError} when the last admin would lose the role, the user exists (`create`) or a
   *   new user has no password; {@link UserNotFoundError} for `update` of an unknown user.
   */
  set(
    username: string,
    changes: { password?: string; role?: Role },
    mode: 'create' | 'update' | 'upsert' = 'upsert',
  ): Promise<User> {
    return this.#serial(async () => {
      await this.#reloadIfChanged();
      const users = this.#db.data.users;
      const existing = users.find((u) => u.username === username);
      if (existing !== undefined && mode === 'create') throw new UserConflictError(`user "${username}" already exists`);
      if (existing === undefined && mode === 'update') throw new UserNotFoundError(`there is no user "${username}"`);
      if (existing === undefined && changes.password === undefined) throw new UserConflictError('a new user needs a password');
      const role = changes.role ?? existing?.role ?? 'viewer';
      if (existing?.role === 'admin' && role !== 'admin' && users.filter((u) => u.role === 'admin').length === 1) {
        throw new UserConflictError(`"${username}" is the last admin and must keep the admin role`);
      }
      const passwordHash = changes.password === undefined ? existing?.passwordHash : await hashPassword(changes.password);
      if (passwordHash === undefined) throw new UserConflictError('a new user needs a password');
      const next = { username, role, passwordHash };
      this.#db.data = {
        format: 1,
        users: existing === undefined ? [...users, next] : users.map((u) => (u.username === username ? next : u)),
      };
      await this.#db.write();
      this.#mtimeMs = this.#fileTime();
      return { username, role };
    });
  }

  /** @throws {UserConflictError} for the last admin. Returns false when there was no such user. */
  delete(username: string): Promise<boolean> {
    return this.#serial(async () => {
      await this.#reloadIfChanged();
      const users = this.#db.data.users;
      const existing = users.find((u) => u.username === username);
      if (existing === undefined) return false;
      if (existing.role === 'admin' && users.filter((u) => u.role === 'admin').length === 1)
        throw new UserConflictError(`"${username}" is the last admin and cannot be deleted`);
      this.#db.data = { format: 1, users: users.filter((u) => u.username !== username) };
      await this.#db.write();
      this.#mtimeMs = this.#fileTime();
      return true;
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
