// Helpers for the network processors' tests: a plain HTTP client on node:http, waiting for a
// listener's port, polling with generous deadlines.
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TestRunner } from '@sluice/testing';

/** A response as the tests inspect it. */
export interface Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
}

/** Options of {@link send}. */
export interface SendOptions {
  readonly method?: string;
  readonly headers?: OutgoingHttpHeaders;
  /** A body, or chunks written with the given pause between them. */
  readonly body?: string | Buffer | { readonly chunks: readonly (string | Buffer)[]; readonly pauseMs: number };
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

/** Sends one request (no keep-alive) and reads the whole response. */
export function send(url: string, options: SendOptions = {}): Promise<Response> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
        headers: options.headers,
        agent: false,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        ...(options.cert === undefined ? {} : { cert: options.cert }),
        ...(options.key === undefined ? {} : { key: options.key }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    const body = options.body;
    if (body === undefined) {
      req.end();
    } else if (typeof body === 'string' || Buffer.isBuffer(body)) {
      req.end(body);
    } else {
      void (async () => {
        for (const chunk of body.chunks) {
          if (req.destroyed) return;
          req.write(chunk);
          await sleep(body.pauseMs);
        }
        if (!req.destroyed) req.end();
      })();
    }
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `condition` holds; throws naming `what` after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Starts the processor under test and returns the port its server logged ("listening on ...:port"). */
export async function startListener(runner: TestRunner): Promise<number> {
  const before = runner.logs.length;
  await runner.engine.startComponent('under-test');
  let port = 0;
  await until(() => {
    for (const entry of runner.logs.slice(before)) {
      const match = /listening on \w+:\/\/.*:(\d+)/.exec(entry.message);
      if (match?.[1] !== undefined) port = Number(match[1]);
    }
    if (port === 0) {
      const failure = runner.logs.slice(before).find((l) => l.level === 'ERROR');
      if (failure !== undefined) throw new Error(`the listener did not start: ${failure.message} ${String(failure.error)}`);
    }
    return port !== 0;
  }, 'the listener to start');
  return port;
}
