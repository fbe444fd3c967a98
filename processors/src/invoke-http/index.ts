import { randomUUID } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  boolean,
  dataSize,
  defineProcessor,
  type FlowFile,
  integer,
  type ProcessContext,
  type ProcessSession,
  regex,
  service,
  string,
  timePeriod,
} from '@sluice/api';
import { AddressRefusedError, checkLiteralHost, guardedLookup } from '../network-support/address-guard.ts';
import { HEADER_NAME } from '../network-support/http-intake.ts';
import { whole } from '../network-support/http-listener.ts';
import { guardedChunks } from '../network-support/streams.ts';
import { SSL_CONTEXT_API, type SslContext } from '../ssl-context-service/index.ts';

const FAILURE_REASON = 'invokehttp.failure.reason';
const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Response headers never copied to attributes: they would overwrite core attributes. */
const RESERVED_ATTRIBUTES = new Set(['uuid', 'filename', 'path', 'absolute.path', 'mime.type']);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A request could not complete in time. */
class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** A kept-alive connection the server had already closed: the request is sent again on a new one. */
class StaleConnectionError extends Error {
  override readonly name = 'StaleConnectionError';
}

interface Client {
  readonly http: HttpAgent;
  readonly https: HttpsAgent;
  readonly guard: boolean;
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly followRedirects: boolean;
  readonly maxRedirects: number;
  readonly maxResponseBytes: number;
  readonly alwaysOutputResponse: boolean;
  readonly bodyEnabled: boolean;
  readonly headerAttributes: RegExp | undefined;
  readonly authorization: string | undefined;
}

type Property =
  | 'httpMethod'
  | 'httpUrl'
  | 'connectTimeout'
  | 'readTimeout'
  | 'followRedirects'
  | 'maxRedirects'
  | 'allowPrivateAddresses'
  | 'sslContextService'
  | 'requestContentType'
  | 'requestBodyEnabled'
  | 'requestHeaderAttributes'
  | 'username'
  | 'password'
  | 'alwaysOutputResponse'
  | 'maxResponseSize';

/** Calls an HTTP(S) endpoint per FlowFile and routes by the answer (NiFi's InvokeHTTP). */
export const InvokeHTTP = defineProcessor({
  type: 'InvokeHTTP',
  description:
    'Sends an HTTP(S) request per FlowFile (or per run, without an incoming connection): method and URL from Expression Language, headers from user-added properties, and the FlowFile content as the body of POST, PUT and PATCH. The answer\'s body is streamed into a new FlowFile on "response" (2xx, or every answer with Always Output Response) with the status and headers as attributes; the request FlowFile goes to "original" (2xx), "retry" (5xx, penalized), "no-retry" (1xx, 3xx not followed, 4xx) or "failure" (no answer: bad URL, refused address, connection error, timeout), each with invokehttp.* attributes. A server that accepts and never answers ends in failure after the Socket Read Timeout. "Allow Private Addresses" false guards against SSRF: names are resolved and every address must be public, and the connection is pinned to the checked addresses.',
  tags: ['http', 'https', 'rest', 'client', 'request', 'api', 'egress', 'fetch'],
  input: 'allowed',
  properties: {
    httpMethod: string({
      displayName: 'HTTP Method',
      description: 'The request method (Expression Language), e.g. GET, POST, PUT, PATCH, DELETE, HEAD.',
      default: 'GET',
      required: true,
      expression: 'flowfile',
      validate: (v) => (TOKEN.test(v.trim()) ? undefined : `"${v}" is not an HTTP method`),
    }),
    httpUrl: string({
      displayName: 'HTTP URL',
      description: 'The http:// or https:// URL to call (Expression Language), e.g. https://api.example.com/orders/${order.id}.',
      required: true,
      expression: 'flowfile',
      validate: (v) => urlProblem(v.trim()),
    }),
    connectTimeout: timePeriod({
      displayName: 'Connection Timeout',
      description: 'Longest wait to connect (including TLS).',
      default: '5 sec',
      required: true,
      min: 1,
    }),
    readTimeout: timePeriod({
      displayName: 'Socket Read Timeout',
      description: 'Longest wait for the answer and between two pieces of it (or of the upload); then the request fails.',
      default: '15 sec',
      required: true,
      min: 1,
    }),
    followRedirects: boolean({
      displayName: 'Follow Redirects',
      description: 'Follow 301, 302, 303, 307 and 308 answers (each hop is checked like the first URL).',
      default: 'true',
    }),
    maxRedirects: integer({
      displayName: 'Max Redirects',
      description: 'Redirects followed per request at most; one more is a failure.',
      default: '5',
      min: 0,
      max: 20,
      dependsOn: { property: 'followRedirects', values: ['true'] },
    }),
    allowPrivateAddresses: boolean({
      displayName: 'Allow Private Addresses',
      description:
        'Whether requests may go to loopback (127.0.0.0/8, ::1), private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16 — where cloud metadata services answer — and fe80::/10) and other non-public addresses. True by default so flows can call services on this host and network; set it to false when URLs come from data you do not control, to block server-side request forgery.',
      default: 'true',
    }),
    sslContextService: service(SSL_CONTEXT_API, {
      displayName: 'SSL Context Service',
      description: 'Trusted CAs (instead of the system ones) and a client certificate for https URLs.',
    }),
    requestContentType: string({
      displayName: 'Request Content-Type',
      description: 'Content-Type of the body sent (Expression Language); application/octet-stream when it evaluates to nothing.',
      default: '${mime.type}',
      expression: 'flowfile',
    }),
    requestBodyEnabled: boolean({
      displayName: 'Request Body Enabled',
      description: 'Send the FlowFile content as the body of POST, PUT and PATCH requests.',
      default: 'true',
    }),
    requestHeaderAttributes: regex({
      displayName: 'Request Header Attributes Pattern',
      description: 'FlowFile attributes whose whole name matches are sent as headers of the same name.',
    }),
    username: string({ displayName: 'Request Username', description: 'Username for HTTP Basic authentication.' }),
    password: string({
      displayName: 'Request Password',
      description: 'Password for HTTP Basic authentication (never sent to another host after a redirect).',
      sensitive: true,
    }),
    alwaysOutputResponse: boolean({
      displayName: 'Always Output Response',
      description: 'Also create the response FlowFile for answers that are not 2xx.',
      default: 'false',
    }),
    maxResponseSize: dataSize({
      displayName: 'Max Response Size',
      description:
        'A response body larger than this is a failure (unlimited when empty). Bodies are streamed, never held in memory.',
      min: 0,
    }),
  },
  dynamicProperties: {
    description: 'Each property is a request header: its name the header name, its value (Expression Language) the value.',
    expression: 'flowfile',
    validate: (name) => (HEADER_NAME.test(name) ? undefined : `"${name}" is not a valid HTTP header name`),
  },
  relationships: {
    original: 'The request FlowFile, after a 2xx answer',
    response: "The answer's body, with its status and headers as attributes (2xx, or always with Always Output Response)",
    retry: 'The request FlowFile after a 5xx answer (penalized): the server may succeed later',
    'no-retry': 'The request FlowFile after a 1xx, 3xx (not followed) or 4xx answer: sending it again will not help',
    failure: `The request FlowFile when no answer came (bad URL, refused address, connection error, timeout); ${FAILURE_REASON} says why`,
  },
  writesAttributes: {
    'invokehttp.status.code': "The answer's status code (original and response)",
    'invokehttp.status.message': "The answer's reason phrase",
    'invokehttp.request.url': 'The URL called',
    'invokehttp.response.url': 'The URL that answered (after redirects)',
    'invokehttp.request.duration': "Milliseconds from sending the request to the answer's headers",
    'invokehttp.tx.id': 'An identifier shared by the original and its response',
    '<header name>': 'Each response header (response FlowFile)',
    'mime.type': "The answer's Content-Type (response FlowFile)",
    [FAILURE_REASON]: 'Why the request failed (failure)',
  },
  validate(context) {
    const username = context.getProperty('username').raw ?? '';
    const password = context.getProperty('password').raw ?? '';
    if ((username === '') !== (password === '')) return ['set both Request Username and Request Password, or neither'];
    if (username.includes(':')) return ['the Request Username may not contain ":"'];
    return [];
  },
  onScheduled(context): Client {
    const ssl = context.getProperty('sslContextService').isSet ? context.getService<SslContext>('sslContextService') : undefined;
    const username = context.getProperty('username').asString() ?? '';
    const password = context.getProperty('password').asString() ?? '';
    return {
      http: new HttpAgent({ keepAlive: true, maxSockets: 64 }),
      https: new HttpsAgent({ keepAlive: true, maxSockets: 64, ...ssl?.clientOptions() }),
      guard: context.getProperty('allowPrivateAddresses').asBoolean() === false,
      connectTimeoutMs: context.getProperty('connectTimeout').asTimePeriod() ?? 5000,
      readTimeoutMs: context.getProperty('readTimeout').asTimePeriod() ?? 15_000,
      followRedirects: context.getProperty('followRedirects').asBoolean() !== false,
      maxRedirects: context.getProperty('maxRedirects').asInteger() ?? 5,
      maxResponseBytes: context.getProperty('maxResponseSize').asDataSize() ?? Number.POSITIVE_INFINITY,
      alwaysOutputResponse: context.getProperty('alwaysOutputResponse').asBoolean() === true,
      bodyEnabled: context.getProperty('requestBodyEnabled').asBoolean() !== false,
      headerAttributes: whole(context.getProperty('requestHeaderAttributes').asRegExp()),
      authorization: username === '' ? undefined : `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
    };
  },
  async onTrigger(session, context, client) {
    // Taken before any await: with several tasks, the scheduler starts one per queued FlowFile.
    const flowFile = session.get();
    // Without input a request is sent per run (a polling source); with an incoming connection only per FlowFile.
    if (flowFile === undefined && context.hasIncomingConnection()) return;
    await invoke(session, context, client, flowFile);
  },
  onStopped(_context, client) {
    client.http.destroy();
    client.https.destroy();
  },
});

/** The request as built from the properties and the FlowFile. */
interface Prepared {
  readonly method: string;
  readonly url: URL;
  readonly headers: OutgoingHttpHeaders;
  readonly withBody: boolean;
}

async function invoke(
  session: ProcessSession,
  context: ProcessContext<Property>,
  client: Client,
  flowFile: FlowFile | undefined,
): Promise<void> {
  const fail = (reason: string, url?: string): void => {
    if (flowFile === undefined) {
      context.logger.warn(`request failed: ${reason}`);
      context.yield();
      return;
    }
    context.logger.debug(`FlowFile ${flowFile.uuid} failed: ${reason}`);
    const attributes: Record<string, string> = { [FAILURE_REASON]: reason };
    if (url !== undefined) attributes['invokehttp.request.url'] = url;
    session.transfer(session.penalize(session.putAllAttributes(flowFile, attributes)), 'failure');
  };

  let prepared: Prepared;
  try {
    prepared = prepare(context, client, flowFile);
  } catch (e) {
    fail(message(e));
    return;
  }
  const requestUrl = prepared.url.href;
  const started = Date.now();
  let answer: { response: IncomingMessage; url: URL };
  try {
    answer = await exchangeFollowing(session, client, prepared, flowFile);
  } catch (e) {
    fail(message(e), requestUrl);
    return;
  }
  const { response } = answer;
  const durationMs = Date.now() - started;
  const status = response.statusCode ?? 0;
  const common: Record<string, string> = {
    'invokehttp.status.code': String(status),
    'invokehttp.status.message': response.statusMessage ?? '',
    'invokehttp.request.url': requestUrl,
    'invokehttp.response.url': answer.url.href,
    'invokehttp.request.duration': String(durationMs),
    'invokehttp.tx.id': randomUUID(),
  };
  const ok = status >= 200 && status < 300;
  if (ok || client.alwaysOutputResponse) {
    let out = flowFile === undefined ? session.create() : session.create(flowFile);
    try {
      out = await session.writeStream(
        out,
        guardedChunks(response, {
          idleTimeoutMs: client.readTimeoutMs,
          maxBytes: client.maxResponseBytes,
          stalled: () =>
            new TimeoutError(`the response body stalled: nothing arrived for ${client.readTimeoutMs} ms (Socket Read Timeout)`),
          tooLarge: () => new Error(`the response body is larger than Max Response Size (${client.maxResponseBytes} bytes)`),
          failed: (e) => new Error(`the response body could not be read: ${message(e)}`),
        }),
      );
    } catch (e) {
      response.destroy();
      session.remove(out);
      fail(message(e), requestUrl);
      return;
    }
    out = session.putAllAttributes(out, { ...common, ...responseHeaderAttributes(response) });
    if (flowFile === undefined) session.provenance.receive(out, answer.url.href, { durationMs });
    else session.provenance.fetch(out, answer.url.href, { durationMs });
    session.transfer(out, 'response');
  } else {
    // Nobody reads this body: drop the connection rather than wait for it.
    response.destroy();
  }
  if (flowFile === undefined) {
    if (!ok) {
      context.logger.warn(`${prepared.method} ${requestUrl} answered ${status} ${response.statusMessage ?? ''}`);
      context.yield();
    }
    return;
  }
  let original = session.putAllAttributes(flowFile, common);
  if (prepared.withBody) session.provenance.send(original, requestUrl, { durationMs, force: true });
  if (ok) {
    session.transfer(original, 'original');
  } else if (status >= 500) {
    original = session.penalize(original);
    session.transfer(original, 'retry');
  } else {
    session.transfer(original, 'no-retry');
  }
}

/** Builds the request. @throws {Error} saying what is wrong with the method, URL or headers. */
function prepare(context: ProcessContext<Property>, client: Client, flowFile: FlowFile | undefined): Prepared {
  const method = (context.getProperty('httpMethod').evaluate(flowFile) ?? '').trim().toUpperCase();
  if (!TOKEN.test(method)) throw new Error(`"${method}" is not an HTTP method`);
  const text = (context.getProperty('httpUrl').evaluate(flowFile) ?? '').trim();
  const problem = urlProblem(text);
  if (problem !== undefined) throw new Error(problem);
  const url = new URL(text);
  const headers: OutgoingHttpHeaders = {};
  if (flowFile !== undefined && client.headerAttributes !== undefined) {
    for (const [name, value] of flowFile.attributes) {
      if (client.headerAttributes.test(name) && HEADER_NAME.test(name)) headers[name] = value;
    }
  }
  for (const [name, property] of context.dynamicProperties) {
    const value = property.evaluate(flowFile) ?? '';
    if (value !== '') headers[name] = value;
  }
  const withBody = flowFile !== undefined && client.bodyEnabled && METHODS_WITH_BODY.has(method);
  if (withBody) {
    const contentType = context.getProperty('requestContentType').evaluate(flowFile) ?? '';
    headers['Content-Type'] = contentType === '' ? 'application/octet-stream' : contentType;
    headers['Content-Length'] = String(flowFile.size);
  }
  if (client.authorization !== undefined) headers.Authorization = client.authorization;
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string' && /[\r\n\0]/.test(value))
      throw new Error(`the value of header ${name} contains a line break or NUL`);
  }
  return { method, url, headers, withBody };
}

/** Sends the request, following redirects as configured; resolves with the final answer. */
async function exchangeFollowing(
  session: ProcessSession,
  client: Client,
  prepared: Prepared,
  flowFile: FlowFile | undefined,
): Promise<{ response: IncomingMessage; url: URL }> {
  let { method, url, withBody } = prepared;
  const headers: OutgoingHttpHeaders = { ...prepared.headers };
  for (let hop = 0; ; hop++) {
    if (client.guard) checkLiteralHost(url.hostname);
    const body = (): Readable | undefined => (withBody && flowFile !== undefined ? session.readStream(flowFile) : undefined);
    let response: IncomingMessage;
    try {
      response = await exchange(client, method, url, headers, body());
    } catch (e) {
      if (!(e instanceof StaleConnectionError)) throw e;
      response = await exchange(client, method, url, headers, body());
    }
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (!client.followRedirects || !REDIRECTS.has(status) || location === undefined) return { response, url };
    response.destroy();
    if (hop >= client.maxRedirects) {
      throw new Error(`too many redirects: more than ${client.maxRedirects} (Max Redirects) starting at ${prepared.url.href}`);
    }
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new Error(`${url.href} redirected to "${location}", which is not a URL`);
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new Error(`${url.href} redirected to ${next.protocol} URL ${next.href}; only http and https are followed`);
    }
    if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
      // As browsers do: the redirected request is a GET without the body.
      if (method !== 'HEAD') method = 'GET';
      withBody = false;
      delete headers['Content-Type'];
      delete headers['Content-Length'];
    }
    if (next.origin !== url.origin) delete headers.Authorization;
    url = next;
  }
}

/** One request; resolves at the answer's headers, rejects on a connection error or timeout. */
function exchange(
  client: Client,
  method: string,
  url: URL,
  headers: OutgoingHttpHeaders,
  body: Readable | undefined,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const fail = (error: Error): void => {
      clearTimeout(timer);
      if (!settled) {
        settled = true;
        reject(error);
      }
      request.destroy();
      body?.destroy();
    };
    const options = {
      method,
      headers,
      agent: secure ? client.https : client.http,
      ...(client.guard ? { lookup: guardedLookup } : {}),
    };
    const request = secure ? httpsRequest(url, options) : httpRequest(url, options);
    timer = setTimeout(
      () => fail(new TimeoutError(`could not connect to ${url.host} within ${client.connectTimeoutMs} ms (Connection Timeout)`)),
      client.connectTimeoutMs,
    );
    const awaitAnswer = (): void => {
      clearTimeout(timer);
      timer = setTimeout(
        () => fail(new TimeoutError(`${url.host} sent no answer within ${client.readTimeoutMs} ms (Socket Read Timeout)`)),
        client.readTimeoutMs,
      );
    };
    request.on('socket', (socket: Socket) => {
      if (socket.connecting) socket.once(secure ? 'secureConnect' : 'connect', awaitAnswer);
      else awaitAnswer();
    });
    request.on('response', (response) => {
      clearTimeout(timer);
      settled = true;
      resolve(response);
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      // Node's advice: a reused keep-alive socket may have been closed by the server meanwhile.
      if (request.reusedSocket && !settled && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) {
        fail(new StaleConnectionError(`${url.host} had closed the kept-alive connection`));
      } else {
        fail(connectionProblem(error, url));
      }
    });
    if (body === undefined) {
      request.end();
    } else {
      // Upload progress counts as activity: a large body may take longer than the read timeout.
      body.on('data', () => {
        if (!settled) awaitAnswer();
      });
      pipeline(body, request).catch((error: unknown) => fail(connectionProblem(error, url)));
    }
  });
}

function responseHeaderAttributes(response: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  const raw = response.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    if (RESERVED_ATTRIBUTES.has(name.toLowerCase()) || name === '__proto__') continue;
    const previous = out[name];
    out[name] = previous === undefined ? (raw[i + 1] ?? '') : `${previous}, ${raw[i + 1] ?? ''}`;
  }
  const contentType = response.headers['content-type'];
  if (contentType !== undefined && contentType !== '') out['mime.type'] = contentType;
  return out;
}

function urlProblem(text: string): string | undefined {
  if (text === '') return 'the URL is empty';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `"${text}" is not a URL; write it like https://host/path`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `"${text}" is not an http:// or https:// URL`;
  if (url.hostname === '') return `"${text}" has no host`;
  return undefined;
}

function connectionProblem(error: unknown, url: URL): Error {
  if (error instanceof AddressRefusedError || error instanceof TimeoutError) return error;
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  const text = message(error);
  if (code === 'ECONNREFUSED') return new Error(`${url.host} refused the connection (nothing listens there?)`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new Error(`the host name ${url.hostname} could not be resolved`);
  if (code === 'ECONNRESET') return new Error(`${url.host} closed the connection before answering`);
  if (code.startsWith('ERR_TLS') || code.includes('CERT') || /certificate/i.test(text)) {
    return new Error(`the TLS connection to ${url.host} failed: ${text}`);
  }
  return new Error(`the request to ${url.host} failed: ${text}`);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
