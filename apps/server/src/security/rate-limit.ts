/** Limits of login attempts. */
export interface LoginLimits {
  /** Attempts allowed per client address per window (10). */
  readonly perAddress?: number;
  /** Failed attempts allowed per username per window (10). */
  readonly failuresPerUser?: number;
  /** The window, ms (5 minutes). */
  readonly windowMs?: number;
  readonly now?: () => number;
}

interface Window {
  count: number;
  resetAt: number;
}

/**
 * Login rate limiting, fixed windows: every attempt counts against the client address, failed ones
 * also against the username (so spreading a guess over many addresses does not help). A success
 * clears the username's failures.
 */
export class LoginRateLimiter {
  readonly #perAddress: number;
  readonly #perUser: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, Window>();

  constructor(limits: LoginLimits = {}) {
    this.#perAddress = limits.perAddress ?? 10;
    this.#perUser = limits.failuresPerUser ?? 10;
    this.#windowMs = limits.windowMs ?? 5 * 60_000;
    this.#now = limits.now ?? Date.now;
  }

  /**
   * Counts an attempt. Returns undefined when it may go ahead, else how many seconds until it may.
   */
  attempt(address: string, username: string): number | undefined {
    const now = this.#now();
    if (this.#windows.size > 10_000) this.#sweep(now);
    const user = this.#window(`user:${username}`, now);
    if (user.count >= this.#perUser) return Math.ceil((user.resetAt - now) / 1000);
    const ip = this.#window(`ip:${address}`, now);
    if (ip.count >= this.#perAddress) return Math.ceil((ip.resetAt - now) / 1000);
    ip.count++;
    return undefined;
  }

  /** Records the outcome of an attempt. */
  result(username: string, success: boolean): void {
    const key = `user:${username}`;
    if (success) this.#windows.delete(key);
    else this.#window(key, this.#now()).count++;
  }

  #window(key: string, now: number): Window {
    let window = this.#windows.get(key);
    if (window === undefined || window.resetAt <= now) {
      window = { count: 0, resetAt: now + this.#windowMs };
      this.#windows.set(key, window);
    }
    return window;
  }

  #sweep(now: number): void {
    for (const [key, window] of this.#windows) if (window.resetAt <= now) this.#windows.delete(key);
  }
}
