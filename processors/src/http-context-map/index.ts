import type { IncomingMessage, ServerResponse } from 'node:http';
import { defineService, integer, timePeriod } from '@sluice/api';
import { reply } from '../network-support/http-intake.ts';

/** The API string of HTTP context maps: `service(HTTP_CONTEXT_MAP_API, ...)` properties accept them. */
export const HTTP_CONTEXT_MAP_API = 'http-context-map';

/**
 * Where HandleHttpRequest parks the open response of each request until HandleHttpResponse
 * answers it. Entries expire: a request nobody answers in time gets 503.
 */
export interface HttpContextMap {
  /**
   * Parks a response under an identifier. Returns false (registering nothing) when the map already
   * holds its maximum of outstanding requests.
   */
  register(id: string, request: IncomingMessage, response: ServerResponse): boolean;
  /**
   * Takes the response out of the map to answer it; undefined when the id is unknown, expired, or
   * the client has gone. Once taken, it no longer expires.
   */
  complete(id: string): { readonly request: IncomingMessage; readonly response: ServerResponse } | undefined;
  /** Whether another request can be registered now. */
  hasCapacity(): boolean;
  /** Requests waiting for an answer. */
  readonly size: number;
}

interface Entry {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly timer: NodeJS.Timeout;
  readonly onClose: () => void;
}

/** Holds open HTTP responses between HandleHttpRequest and HandleHttpResponse (NiFi's StandardHttpContextMap). */
export const StandardHttpContextMap = defineService({
  type: 'StandardHttpContextMap',
  description:
    'Holds the open HTTP responses of requests received by HandleHttpRequest until a HandleHttpResponse answers them. A request not answered within the expiration gets 503 Service Unavailable and is forgotten; when the map is full, HandleHttpRequest answers new requests 503 at once. Entries live in memory: requests waiting when Sluice stops are lost (their clients see the connection close).',
  tags: ['http', 'https', 'request', 'response', 'web service'],
  provides: [HTTP_CONTEXT_MAP_API],
  properties: {
    maximumOutstandingRequests: integer({
      displayName: 'Maximum Outstanding Requests',
      description: 'Requests that may wait for an answer at once.',
      default: '5000',
      required: true,
      min: 1,
      max: 1_000_000,
    }),
    requestExpiration: timePeriod({
      displayName: 'Request Expiration',
      description: 'How long a request waits for HandleHttpResponse before it is answered 503.',
      default: '1 min',
      required: true,
      min: 100,
    }),
  },
  enable(context): HttpContextMap & { close(): void } {
    const max = context.getProperty('maximumOutstandingRequests').asInteger() ?? 5000;
    const expirationMs = context.getProperty('requestExpiration').asTimePeriod() ?? 60_000;
    const entries = new Map<string, Entry>();
    let expired = 0;
    let lastReport = 0;
    const forget = (id: string): Entry | undefined => {
      const entry = entries.get(id);
      if (entry === undefined) return undefined;
      entries.delete(id);
      clearTimeout(entry.timer);
      entry.response.off('close', entry.onClose);
      return entry;
    };
    return {
      register(id, request, response) {
        if (entries.size >= max || entries.has(id)) return false;
        const timer = setTimeout(() => {
          const entry = forget(id);
          if (entry === undefined) return;
          reply(entry.response, {
            status: 503,
            message: `no response was produced within ${expirationMs} ms`,
            headers: { 'Retry-After': '1' },
          });
          expired++;
          const now = Date.now();
          // One warning per ten seconds at most, with the count: a stalled flow must not flood bulletins.
          if (now - lastReport > 10_000) {
            context.logger.warn(
              `${expired} request(s) expired after ${expirationMs} ms without a HandleHttpResponse answer and were answered 503`,
            );
            expired = 0;
            lastReport = now;
          }
        }, expirationMs);
        timer.unref();
        const onClose = (): void => {
          forget(id);
        };
        response.once('close', onClose);
        entries.set(id, { request, response, timer, onClose });
        return true;
      },
      complete(id) {
        const entry = forget(id);
        if (entry === undefined || entry.response.destroyed || entry.response.writableEnded) return undefined;
        return { request: entry.request, response: entry.response };
      },
      hasCapacity() {
        return entries.size < max;
      },
      get size() {
        return entries.size;
      },
      close() {
        for (const id of [...entries.keys()]) {
          const entry = forget(id);
          if (entry !== undefined) {
            reply(entry.response, { status: 503, message: 'the HTTP context map was disabled', headers: { 'Retry-After': '1' } });
          }
        }
      },
    };
  },
  disable(instance) {
    instance.close();
  },
});
