/**
 * Peer selection for a remote instance (or cluster), after NiFi's `remote/client/PeerSelector.java`:
 * the peer list is cached (1 minute), peers are weighted by their queued FlowFiles (for SEND fewer
 * queued weighs more, for RECEIVE more queued weighs more; 1/N each when nothing is queued), and a
 * peer that failed is penalized and skipped until its penalty expires.
 */
import { NoPeerAvailableError, SiteToSiteHttpError } from './errors.ts';
import type { PeerStatus } from './protocol.ts';

/** Direction from this side's point of view: send to the peer, or receive from it. */
export type TransferDirection = 'send' | 'receive';

/** Options of a {@link PeerSelector}. */
export interface PeerSelectorOptions {
  /** Fetches the current peer list (e.g. `GET /nifi-api/site-to-site/peers`). */
  readonly fetchPeers: () => Promise<readonly PeerStatus[]>;
  /** How long a fetched list is used before it is fetched again (default 60 s, as NiFi). */
  readonly cacheMs?: number;
  /** Random source in [0, 1), for tests. */
  readonly random?: () => number;
  /** Clock in ms, for tests. */
  readonly now?: () => number;
}

/**
 * Each peer's share (0..1) of the transfers in `direction`, by NiFi's formula: with one peer, all;
 * with nothing queued anywhere, 1/N; else for RECEIVE its share of the queued FlowFiles and for
 * SEND (1 - that share) / (N - 1).
 */
export function peerWeights(peers: readonly PeerStatus[], direction: TransferDirection): number[] {
  if (peers.length === 1) return [1];
  const total = peers.reduce((sum, peer) => sum + peer.flowFileCount, 0);
  return peers.map((peer) => {
    if (total === 0) return 1 / peers.length;
    const share = peer.flowFileCount / total;
    return direction === 'send' ? (1 - share) / (peers.length - 1) : share;
  });
}

function key(peer: PeerStatus): string {
  return `${peer.secure ? 'https' : 'http'}://${peer.hostname}:${peer.port}`;
}

/** Picks the peer for the next transaction; see the module comment for the rules. */
export class PeerSelector {
  readonly #fetch: () => Promise<readonly PeerStatus[]>;
  readonly #cacheMs: number;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #penalties = new Map<string, number>();
  #peers: readonly PeerStatus[] | undefined;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #refreshing: Promise<readonly PeerStatus[]> | undefined;

  constructor(options: PeerSelectorOptions) {
    this.#fetch = options.fetchPeers;
    this.#cacheMs = options.cacheMs ?? 60_000;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
  }

  /**
   * The peer list, from cache while it is fresh. A failed refresh keeps the previous list (tried
   * again after the cache period); with no list at all it throws.
   * @throws {NoPeerAvailableError} when no list could be fetched.
   */
  async peers(): Promise<readonly PeerStatus[]> {
    if (this.#peers !== undefined && this.#now() - this.#fetchedAt < this.#cacheMs) return this.#peers;
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<readonly PeerStatus[]> {
    try {
      const fetched = await this.#fetch();
      if (fetched.length === 0) throw new NoPeerAvailableError('the remote listed no peers');
      this.#peers = fetched;
    } catch (error) {
      // A refusal (401, 403, ...) says more than "no peer": pass it on as it is.
      if (this.#peers === undefined)
        throw error instanceof NoPeerAvailableError || error instanceof SiteToSiteHttpError
          ? error
          : new NoPeerAvailableError(
              `could not list the remote's peers: ${error instanceof Error ? error.message : String(error)}`,
              {
                cause: error,
              },
            );
    } finally {
      this.#fetchedAt = this.#now();
    }
    return this.#peers;
  }

  /** Forgets the cached list so the next selection fetches it again. */
  invalidate(): void {
    this.#fetchedAt = Number.NEGATIVE_INFINITY;
  }

  /** Skips `peer` for `ms` milliseconds (a longer running penalty is kept). */
  penalize(peer: PeerStatus, ms: number): void {
    if (ms <= 0) return;
    const until = this.#now() + ms;
    const current = this.#penalties.get(key(peer)) ?? 0;
    this.#penalties.set(key(peer), Math.max(current, until));
  }

  /** Whether `peer` is serving a penalty now. */
  isPenalized(peer: PeerStatus): boolean {
    const until = this.#penalties.get(key(peer));
    if (until === undefined) return false;
    if (until > this.#now()) return true;
    this.#penalties.delete(key(peer));
    return false;
  }

  /**
   * Chooses a peer for a transfer in `direction`, at random by weight among peers not penalized.
   * @throws {NoPeerAvailableError} when every peer is penalized or none is known.
   */
  async select(direction: TransferDirection): Promise<PeerStatus> {
    const all = await this.peers();
    const available = all.filter((peer) => !this.isPenalized(peer));
    if (available.length === 0)
      throw new NoPeerAvailableError(`all ${all.length} peer(s) of the remote are penalized after failures; try again later`);
    // Weigh over all peers (load is relative to the whole remote), then draw among the available.
    const weights = peerWeights(all, direction);
    const candidates = all
      .map((peer, i) => ({ peer, weight: weights[i] ?? 0 }))
      .filter((entry) => available.includes(entry.peer));
    const total = candidates.reduce((sum, entry) => sum + entry.weight, 0);
    if (total <= 0) return candidates[Math.floor(this.#random() * candidates.length)]?.peer ?? available[0] ?? all[0] ?? fail();
    let draw = this.#random() * total;
    for (const entry of candidates) {
      draw -= entry.weight;
      if (draw < 0) return entry.peer;
    }
    return candidates[candidates.length - 1]?.peer ?? fail();
  }
}

function fail(): never {
  throw new NoPeerAvailableError('no peer to choose from');
}
