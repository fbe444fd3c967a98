/**
 * One HTTP exchange for the client, over Node's http/https: streams a request body with back
 * pressure, hands back the response as soon as its head arrives (even while the upload is still
 * going: a server may refuse early), and turns socket failures and idle timeouts into
 * {@link SiteToSiteConnectionError}s so callers can tell "no answer" from "an answer".
 */
import http, {
  type Agent,
  type ClientRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';
import https from 'node:https';
import { SiteToSiteConnectionError, SiteToSiteError, SiteToSiteProtocolError, SiteToSiteTimeoutError } from './errors.ts';

/** A response whose head has arrived. */
export interface HttpExchange {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: IncomingMessage;
  /** Releases the exchange; drops the connection if the request or the response was cut short. */
  dispose(): void;
}

/** What to send. */
export interface HttpCallOptions {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: URL;
  readonly headers: OutgoingHttpHeaders;
  readonly body?: AsyncIterable<Uint8Array>;
  readonly agent?: Agent | undefined;
  /** Idle timeout: the socket may be silent this long, connecting included. */
  readonly timeoutMs: number;
}

function drained(request: ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      request.off('drain', done);
      request.off('close', done);
      resolve();
    };
    request.on('drain', done);
    request.on('close', done);
  });
}

/**
 * Sends a request and resolves with the response head.
 * @throws {SiteToSiteConnectionError} when the connection fails or goes silent before a response
 * head arrives; an error thrown by the body source is passed through as it is.
 */
export function httpCall(options: HttpCallOptions): Promise<HttpExchange> {
  const { url, method } = options;
  return new Promise<HttpExchange>((resolve, reject) => {
    let settled = false;
    let bodyDone = options.body === undefined;
    let bodyFailed = false;
    const module = url.protocol === 'https:' ? https : http;
    const request = module.request(url, {
      method,
      headers: options.headers,
      ...(options.agent === undefined ? {} : { agent: options.agent }),
      timeout: options.timeoutMs,
    });
    request.on('timeout', () => {
      request.destroy(
        new SiteToSiteTimeoutError(`${method} ${url.pathname}: no answer from ${url.host} within ${options.timeoutMs} ms`),
      );
    });
    request.on('error', (error) => {
      if (settled) return;
      settled = true;
      if (bodyFailed || error instanceof SiteToSiteError) reject(error);
      else reject(new SiteToSiteConnectionError(`${method} ${url.pathname} on ${url.host}: ${error.message}`, { cause: error }));
    });
    request.on('response', (response) => {
      // Errors surface to whoever reads the body; without a listener an unread body would crash.
      response.on('error', () => undefined);
      if (settled) {
        response.resume();
        return;
      }
      settled = true;
      resolve({
        status: response.statusCode ?? 0,
        headers: response.headers,
        body: response,
        dispose: () => {
          if (!bodyDone || !response.complete) request.destroy();
        },
      });
    });
    const body = options.body;
    if (body === undefined) {
      request.end();
      return;
    }
    (async () => {
      for await (const chunk of body) {
        // An early answer (a refusal) or a dead socket: stop reading the source.
        if (settled || request.destroyed) return;
        if (!request.write(chunk)) await drained(request);
      }
      if (!request.destroyed) {
        request.end();
        bodyDone = true;
      }
    })().catch((error: unknown) => {
      bodyFailed = true;
      request.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  });
}

/**
 * Reads a (small) response body as text.
 * @throws {SiteToSiteProtocolError} past `limit` bytes; {@link SiteToSiteConnectionError} if cut.
 */
export async function readText(body: IncomingMessage, limit = 1024 * 1024): Promise<string> {
  const parts: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body) {
      const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      total += bytes.length;
      if (total > limit) {
        body.destroy();
        throw new SiteToSiteProtocolError(`the answer is longer than ${limit} bytes`);
      }
      parts.push(bytes);
    }
  } catch (error) {
    if (error instanceof SiteToSiteError) throw error;
    throw new SiteToSiteConnectionError(`the answer was cut: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return Buffer.concat(parts).toString('utf8');
}
