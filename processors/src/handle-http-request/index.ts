import { randomUUID } from 'node:crypto';
import { type ComponentLogger, defineProcessor, type ProcessSession, service, string } from '@sluice/api';
import { HTTP_CONTEXT_MAP_API, type HttpContextMap } from '../http-context-map/index.ts';
import {
  type HttpIntake,
  type PendingRequest,
  type Reply,
  RequestBodyError,
  reply,
  requestAttributes,
  writeRequestBody,
} from '../network-support/http-intake.ts';
import {
  LISTENER_PROPERTIES,
  type ListenerConfig,
  listenerConfig,
  openIntake,
  validateListener,
} from '../network-support/http-listener.ts';

/** Requests taken per trigger. */
const MAX_REQUESTS_PER_TRIGGER = 256;
/** How long an idle trigger waits for a request before giving the scheduler its turn. */
const IDLE_WAIT_MS = 50;
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

interface Handler {
  readonly intake: HttpIntake;
  readonly config: ListenerConfig;
  readonly contextMap: HttpContextMap;
}

const { host, port, ...otherListenerProperties } = LISTENER_PROPERTIES;

/** Receives HTTP requests as FlowFiles and leaves the answer to HandleHttpResponse (NiFi's HandleHttpRequest). */
export const HandleHttpRequest = defineProcessor({
  type: 'HandleHttpRequest',
  description:
    "Starts an HTTP(S) server and turns each request into a FlowFile (the body as content, the request line and headers as attributes) without answering it: the open response waits in an HTTP context map under http.context.identifier until a HandleHttpResponse in the same flow answers it. Together they build a web service out of a flow. A request nobody answers within the context map's expiration gets 503; when the map is full, or the processor is held by back pressure, new requests get 503 at once.",
  tags: ['http', 'https', 'request', 'web service', 'rest', 'listen', 'source', 'ingest'],
  input: 'forbidden',
  // Where to listen comes first in the editor.
  properties: {
    host,
    port,
    httpContextMap: service(HTTP_CONTEXT_MAP_API, {
      displayName: 'HTTP Context Map',
      description: 'Where open responses wait for HandleHttpResponse (use the same service there).',
      required: true,
    }),
    ...otherListenerProperties,
    allowedMethods: string({
      displayName: 'Allowed Methods',
      description: 'Comma-separated HTTP methods accepted; others get 405 Method Not Allowed.',
      default: 'GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS',
      required: true,
      validate: (v) => {
        const methods = v.split(',').map((m) => m.trim());
        const bad = methods.find((m) => !METHOD.test(m));
        return bad === undefined ? undefined : `"${bad}" is not an HTTP method; list methods like GET,POST`;
      },
    }),
  },
  relationships: { success: 'A FlowFile per request; route it (eventually) to a HandleHttpResponse' },
  writesAttributes: {
    'http.context.identifier': 'Identifies the waiting response in the HTTP context map (HandleHttpResponse reads it)',
    'http.method': 'The request method',
    'http.request.uri': 'The request path',
    'http.query.string': 'The query string, without "?"',
    'http.query.param.<name>': 'Each query parameter (its first value)',
    'http.request.url': 'The whole request URL as the client addressed it',
    'http.remote.addr': 'The client address',
    'http.remote.port': 'The client port',
    'http.local.port': 'The port the request arrived on',
    'http.protocol': 'HTTP/1.1 or HTTP/1.0',
    'http.headers.<name>': 'Each request header (lowercase name), unless filtered by the headers regex',
    'mime.type': 'The Content-Type of the request',
  },
  defaultSchedule: { period: '0 sec' },
  validate: (context) => validateListener(context),
  async onScheduled(context): Promise<Handler> {
    const config = listenerConfig(context);
    const contextMap = context.getService<HttpContextMap>('httpContextMap');
    const methods = new Set(
      (context.getProperty('allowedMethods').asString() ?? '')
        .split(',')
        .map((m) => m.trim().toUpperCase())
        .filter((m) => m !== ''),
    );
    const allow = [...methods].join(', ');
    const intake = await openIntake(context, config, (request): Reply | undefined => {
      if (!methods.has(request.method ?? '')) {
        return { status: 405, message: `${request.method ?? 'this method'} is not accepted here`, headers: { Allow: allow } };
      }
      if (!contextMap.hasCapacity()) {
        return {
          status: 503,
          message: 'too many requests are waiting for an answer; try again shortly',
          headers: { 'Retry-After': '1' },
        };
      }
      return undefined;
    });
    return { intake, config, contextMap };
  },
  async onTrigger(session, context, handler) {
    const { intake } = handler;
    intake.beginTrigger();
    try {
      const batch = await intake.takeOrWait(MAX_REQUESTS_PER_TRIGGER, IDLE_WAIT_MS);
      if (batch.length === 0) return;
      // The framework commits after this trigger (nobody is acknowledged here). Should that commit
      // fail, the registered requests are answered 503 when they expire.
      await Promise.all(batch.map((pending) => receive(session, context.logger, handler, pending)));
    } finally {
      intake.endTrigger();
    }
  },
  onUnscheduled(_context, handler) {
    handler.intake.wakeAll();
  },
  async onStopped(_context, handler) {
    // Requests already handed on keep their connection: HandleHttpResponse may still answer them.
    await handler.intake.close(false);
  },
});

/**
 * Streams one request body into a FlowFile, registers its response in the context map and transfers
 * it; returns the context identifier, or undefined after answering the client why not.
 */
async function receive(
  session: ProcessSession,
  logger: ComponentLogger,
  handler: Handler,
  pending: PendingRequest,
): Promise<string | undefined> {
  const { request, response, url } = pending;
  const attributes = requestAttributes(request, url, handler.config.attributes);
  let flowFile = session.create();
  try {
    flowFile = await writeRequestBody(session, flowFile, request, handler.config.limits);
  } catch (e) {
    session.remove(flowFile);
    const refusal: Reply =
      e instanceof RequestBodyError
        ? { status: e.status, message: e.message }
        : { status: 500, message: 'the request could not be stored; try again' };
    if (refusal.status >= 500) logger.warn(`could not store a request from ${request.socket.remoteAddress ?? 'a client'}`, e);
    reply(response, refusal);
    return undefined;
  }
  const id = randomUUID();
  if (!handler.contextMap.register(id, request, response)) {
    session.remove(flowFile);
    reply(response, {
      status: 503,
      message: 'too many requests are waiting for an answer; try again shortly',
      headers: { 'Retry-After': '1' },
    });
    return undefined;
  }
  attributes.set('http.context.identifier', id);
  flowFile = session.putAllAttributes(flowFile, attributes);
  session.provenance.receive(flowFile, attributes.get('http.request.url') ?? url.href, {
    details: `from ${request.socket.remoteAddress ?? 'an unknown address'}`,
    durationMs: Date.now() - pending.receivedAt,
  });
  session.transfer(flowFile, 'success');
  return id;
}
