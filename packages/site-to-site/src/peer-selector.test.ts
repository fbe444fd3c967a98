import { NoPeerAvailableError, PeerSelector, type PeerStatus, peerWeights, resolveBaseUrl } from '@sluice/site-to-site';
import { describe, expect, it } from 'vitest';

const peer = (hostname: string, flowFileCount: number): PeerStatus => ({ hostname, port: 8080, secure: false, flowFileCount });

describe('peer weights (NiFi PeerSelector)', () => {
  it('weighs by queued FlowFiles: fewer for SEND, more for RECEIVE, 1/N when idle', () => {
    // NiFi's own example: 20, 30 and 50 queued -> SEND 40/35/25 %, RECEIVE 20/30/50 %.
    const peers = [peer('a', 20), peer('b', 30), peer('c', 50)];
    expect(peerWeights(peers, 'send').map((w) => Math.round(w * 100))).toEqual([40, 35, 25]);
    expect(peerWeights(peers, 'receive').map((w) => Math.round(w * 100))).toEqual([20, 30, 50]);
    expect(peerWeights([peer('a', 0), peer('b', 0)], 'send')).toEqual([0.5, 0.5]);
    expect(peerWeights([peer('a', 99)], 'send')).toEqual([1]);
  });
});

describe('PeerSelector', () => {
  it('draws by weight, skips penalized peers until the penalty ends, and says when none is left', async () => {
    let now = 1_000;
    let draw = 0;
    const selector = new PeerSelector({
      fetchPeers: async () => [peer('a', 20), peer('b', 30), peer('c', 50)],
      random: () => draw,
      now: () => now,
    });
    draw = 0.1; // inside a's 40 % for SEND
    expect((await selector.select('send')).hostname).toBe('a');
    draw = 0.99;
    expect((await selector.select('send')).hostname).toBe('c');
    expect((await selector.select('receive')).hostname).toBe('c');
    selector.penalize(peer('c', 0), 5_000);
    expect((await selector.select('receive')).hostname).toBe('b');
    selector.penalize(peer('a', 0), 5_000);
    selector.penalize(peer('b', 0), 1_000);
    await expect(selector.select('send')).rejects.toBeInstanceOf(NoPeerAvailableError);
    now += 1_001;
    expect((await selector.select('send')).hostname).toBe('b');
  });

  it('caches the peer list for a minute and keeps the old list when a refresh fails', async () => {
    let now = 0;
    let fetches = 0;
    let failing = false;
    const selector = new PeerSelector({
      fetchPeers: async () => {
        fetches++;
        if (failing) throw new Error('remote down');
        return [peer('a', 0)];
      },
      now: () => now,
    });
    await selector.select('send');
    now += 59_000;
    await selector.select('send');
    expect(fetches).toBe(1);
    now += 2_000;
    failing = true;
    expect((await selector.select('send')).hostname).toBe('a');
    expect(fetches).toBe(2);
    const fresh = new PeerSelector({ fetchPeers: async () => Promise.reject(new Error('remote down')) });
    await expect(fresh.select('send')).rejects.toThrow(/could not list the remote's peers: remote down/);
    const empty = new PeerSelector({ fetchPeers: async () => [] });
    await expect(empty.select('send')).rejects.toBeInstanceOf(NoPeerAvailableError);
  });
});

describe('resolveBaseUrl', () => {
  it('resolves leniently, as NiFi does', () => {
    expect(resolveBaseUrl('http://core:8080')).toBe('http://core:8080/nifi-api');
    expect(resolveBaseUrl('http://core:8080/')).toBe('http://core:8080/nifi-api');
    expect(resolveBaseUrl('https://core/nifi')).toBe('https://core/nifi-api');
    expect(resolveBaseUrl('https://core/nifi-api/')).toBe('https://core/nifi-api');
    expect(resolveBaseUrl('http://proxy/sluice/')).toBe('http://proxy/sluice/nifi-api');
    expect(() => resolveBaseUrl('ftp://core')).toThrow(TypeError);
  });
});
