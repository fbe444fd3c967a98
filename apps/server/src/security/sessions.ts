import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from '@sluice/protocol';

/** A logged-in browser or script. */
export interface Session {
  readonly id: string;
  readonly username: string;
  readonly role: Role;
  /** Must come back in the X-CSRF-Token header of every state-changing request. */
  readonly csrfToken: string;
  readonly createdAt: number;
  lastSeen: number;
}

/** Session lifetimes. */
export interface SessionOptions {
  /** A session unused this long ends (8 hours). */
  readonly idleTimeoutMs?: number;
  /** A session ends this long after login whatever happens (24 hours). */
  readonly maxAgeMs?: number;
  readonly now?: () => number;
}

/**
 * Sessions in memory (a restart logs everyone out). Ids and CSRF tokens are 256-bit random values;
 * the id only ever travels in the httpOnly cookie.
 */
export class SessionManager {
  readonly #sessions = new Map<string, Session>();
  readonly #idleMs: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #listeners = new Set<(session: Session, reason: string) => void>();

  constructor(options: SessionOptions = {}) {
    this.#idleMs = options.idleTimeoutMs ?? 8 * 3600_000;
    this.#maxAgeMs = options.maxAgeMs ?? 24 * 3600_000;
    this.#now = options.now ?? Date.now;
  }

  create(username: string, role: Role): Session {
    this.sweep();
    const now = this.#now();
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      username,
      role,
      csrfToken: randomBytes(32).toString('base64url'),
      createdAt: now,
      lastSeen: now,
    };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id (its idle timer restarts), or undefined. */
  get(id: string | undefined, touch = true): Session | undefined {
    if (id === undefined) return undefined;
    const session = this.#sessions.get(id);
    if (session === undefined) return undefined;
    const now = this.#now();
    if (this.#expired(session, now)) {
      this.end(session.id, 'expired');
      return undefined;
    }
    if (touch) session.lastSeen = now;
    return session;
  }

  /** When a session will end if unused. */
  expiresAt(session: Session): number {
    return Math.min(session.lastSeen + this.#idleMs, session.createdAt + this.#maxAgeMs);
  }

  /** Compares a presented CSRF token with the session's, in constant time. */
  static csrfMatches(session: Session, presented: string | undefined): boolean {
    if (presented === undefined) return false;
    const a = Buffer.from(session.csrfToken);
    const b = Buffer.from(presented);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  end(id: string, reason: string): void {
    const session = this.#sessions.get(id);
    if (session === undefined) return;
    this.#sessions.delete(id);
    for (const listener of this.#listeners) listener(session, reason);
  }

  /** Ends every session of a user (password or role changed, user deleted), except one. */
  endUser(username: string, reason: string, except?: string): void {
    for (const session of [...this.#sessions.values()]) {
      if (session.username === username && session.id !== except) this.end(session.id, reason);
    }
  }

  /** Ends expired sessions (their sockets are told). */
  sweep(): void {
    const now = this.#now();
    for (const session of [...this.#sessions.values()]) if (this.#expired(session, now)) this.end(session.id, 'expired');
  }

  /** Called when a session ends, with why. */
  onEnd(listener: (session: Session, reason: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get size(): number {
    return this.#sessions.size;
  }

  #expired(session: Session, now: number): boolean {
    return now >= this.expiresAt(session);
  }
}
