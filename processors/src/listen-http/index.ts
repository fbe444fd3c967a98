import {
  type ComponentLogger,
  defineProcessor,
  FLOWFILE_V3_MIME_TYPE,
  type FlowFile,
  FlowFileV3Error,
  integer,
  type ProcessSession,
  string,
  unpackFlowFileV3,
} from '@sluice/api';
import {
  type HttpIntake,
  type PendingRequest,
  type Reply,
  RequestBodyError,
  reply,
  requestAttributes,
  requestBody,
  writeRequestBody,
} from '../network-support/http-intake.ts';
import {
  LISTENER_PROPERTIES,
  type ListenerConfig,
  listenerConfig,
  openIntake,
  validateListener,
} from '../network-support/http-listener.ts';

/** Requests taken at once; they share one commit. */
const MAX_REQUESTS_PER_BATCH = 256;
/** How long an idle trigger waits for a request before giving the scheduler its turn. */
const IDLE_WAIT_MS = 50;
/** Between batches of one trigger, how long to wait for the next request before ending the trigger. */
const LINGER_MS = 5;
/** A trigger serves batches for at most this long... */
const SERVE_BUDGET_MS = 100;
/** ...and at most this many FlowFiles, so a full outbound queue is overshot by a bounded amount. */
const MAX_FLOWFILES_PER_TRIGGER = 1000;
/** Limits on the attributes of an unpacked FlowFile v3 package (its bytes count against Max Request Size too). */
const V3_LIMITS = { maxAttributes: 10_000, maxFieldBytes: 1024 * 1024, maxAttributeBytes: 4 * 1024 * 1024 };

interface Listener {
  readonly intake: HttpIntake;
  readonly config: ListenerConfig;
  readonly returnCode: number;
}

const { host, port, ...otherListenerProperties } = LISTENER_PROPERTIES;

/** Receives FlowFiles over HTTP, answering only once they are durably committed (NiFi's ListenHTTP). */
export const ListenHTTP = defineProcessor({
  type: 'ListenHTTP',
  description:
    "Starts an HTTP(S) server and turns each POST or PUT body under the base path into a FlowFile, streamed into the content repository. A body sent as application/flowfile-v3 (NiFi's FlowFile packaging, e.g. from another Sluice or NiFi) is unpacked into one FlowFile per package with its attributes. The client gets its 2xx answer only after the FlowFiles are durably committed, so an acknowledged request is never lost; on any failure nothing of the request is kept and the client gets 4xx/5xx and can retry. While an outbound queue is full the processor is not triggered and requests get 503 with Retry-After. HEAD answers 200 with the accepted content types.",
  tags: ['ingest', 'http', 'https', 'rest', 'listen', 'source', 'flowfile-v3'],
  input: 'forbidden',
  // Where to listen comes first in the editor.
  properties: {
    host,
    port,
    basePath: string({
      displayName: 'Base Path',
      description:
        'Path prefix data is accepted under (requests to /<base path> and /<base path>/...); others get 404. Empty accepts every path.',
      default: 'contentListener',
      validate: (v) => (/[?#\s]/.test(v) ? 'the base path may not contain "?", "#" or spaces' : undefined),
    }),
    ...otherListenerProperties,
    returnCode: integer({
      displayName: 'Return Code',
      description: 'Status answered once the FlowFiles of a request are committed.',
      default: '200',
      required: true,
      min: 200,
      max: 299,
    }),
  },
  relationships: { success: 'A FlowFile per request body (or per package of a FlowFile v3 body)' },
  writesAttributes: {
    filename: 'The filename request header when sent (else the FlowFile uuid); for FlowFile v3 packages, the packaged filename',
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
    'mime.type': 'The Content-Type of the request (not for FlowFile v3 bodies, whose packages carry their own)',
  },
  defaultSchedule: { period: '0 sec' },
  validate: (context) => validateListener(context),
  async onScheduled(context): Promise<Listener> {
    const config = listenerConfig(context);
    const base = (context.getProperty('basePath').asString() ?? '').replace(/^\/+|\/+$/g, '');
    const prefix = base === '' ? '' : `/${base}`;
    const returnCode = context.getProperty('returnCode').asInteger() ?? 200;
    const intake = await openIntake(context, config, (request, url): Reply | undefined => {
      if (prefix !== '' && url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) {
        return { status: 404, message: `nothing is served at ${url.pathname}; send data to ${prefix}` };
      }
      if (request.method === 'HEAD') {
        // NiFi senders (PostHTTP, Site-to-Site-less setups) probe with HEAD to learn what may be sent.
        return { status: 200, message: 'ok', headers: { Accept: `${FLOWFILE_V3_MIME_TYPE},*/*` } };
      }
      if (request.method !== 'POST' && request.method !== 'PUT') {
        return {
          status: 405,
          message: `${request.method ?? 'this method'} is not accepted; send data with POST or PUT`,
          headers: { Allow: 'POST, PUT, HEAD' },
        };
      }
      return undefined;
    });
    return { intake, config, returnCode };
  },
  async onTrigger(session, context, listener) {
    const { intake } = listener;
    intake.beginTrigger();
    try {
      // One trigger serves batches back to back while requests keep coming (a few ms apart at most),
      // within a bound of time and FlowFiles: back pressure is only checked between triggers, so a
      // full outbound queue is overshot by at most one trigger's worth. Ending the trigger after
      // every batch would cost the scheduler's idle back-off each time, because the session's
      // explicit commit leaves the trigger looking idle.
      const deadline = Date.now() + SERVE_BUDGET_MS;
      let flowFiles = 0;
      let wait = IDLE_WAIT_MS;
      while (flowFiles < MAX_FLOWFILES_PER_TRIGGER && Date.now() < deadline && context.isScheduled()) {
        // Waiting here (without blocking the event loop) takes a request the moment it arrives.
        const batch = await intake.takeOrWait(MAX_REQUESTS_PER_BATCH, wait);
        if (batch.length === 0) return;
        flowFiles += await serve(session, context.logger, listener, batch);
        wait = LINGER_MS;
      }
    } finally {
      intake.endTrigger();
    }
  },
  onUnscheduled(_context, listener) {
    listener.intake.wakeAll();
  },
  async onStopped(_context, listener) {
    await listener.intake.close(true);
  },
});

/**
 * Receives a batch of requests, commits their FlowFiles durably, then answers each client. Returns
 * the number of FlowFiles committed.
 * @throws the commit's error after answering the clients 500 (the framework rolls back).
 */
async function serve(
  session: ProcessSession,
  logger: ComponentLogger,
  listener: Listener,
  batch: readonly PendingRequest[],
): Promise<number> {
  const received = await Promise.all(batch.map((pending) => receive(session, logger, listener, pending)));
  const count = received.reduce((sum, n) => sum + n, 0);
  if (count === 0) return 0;
  try {
    // The client's answer waits for durability: an acknowledged request survives a crash.
    await session.commit();
  } catch (e) {
    for (const [i, pending] of batch.entries()) {
      if ((received[i] ?? 0) > 0) {
        reply(pending.response, { status: 500, message: 'the data could not be stored; nothing was kept, try again' });
      }
    }
    throw e;
  }
  for (const [i, pending] of batch.entries()) {
    if ((received[i] ?? 0) === 0 || pending.response.writableEnded) continue;
    pending.response.writeHead(listener.returnCode, { 'Content-Length': 0 });
    pending.response.end();
  }
  return count;
}

/**
 * Streams one request into FlowFiles (one, or one per FlowFile v3 package) and transfers them. On any
 * problem the FlowFiles made so far are removed, the client is answered with the reason, and 0 is
 * returned: a request is taken whole or not at all. Returns the number of FlowFiles transferred.
 */
async function receive(
  session: ProcessSession,
  logger: ComponentLogger,
  listener: Listener,
  pending: PendingRequest,
): Promise<number> {
  const { request, response, url } = pending;
  const attributes = requestAttributes(request, url, listener.config.attributes);
  const transitUri = attributes.get('http.request.url') ?? url.href;
  const created: FlowFile[] = [];
  const sourceIds: Array<string | undefined> = [];
  try {
    if (isFlowFileV3(request.headers['content-type'])) {
      attributes.delete('mime.type');
      for await (const unpacked of unpackFlowFileV3(requestBody(request, listener.config.limits), V3_LIMITS)) {
        let flowFile = session.create();
        const index = created.push(flowFile) - 1;
        flowFile = await session.writeStream(flowFile, unpacked.content);
        created[index] = flowFile;
        const packaged = new Map(unpacked.attributes);
        sourceIds.push(packaged.get('uuid'));
        packaged.delete('uuid');
        // The request's own attributes win: a package must not pose as coming from another client.
        for (const [key, value] of attributes) packaged.set(key, value);
        created[index] = session.putAllAttributes(flowFile, packaged);
      }
      if (created.length === 0) throw new RequestBodyError(400, `the ${FLOWFILE_V3_MIME_TYPE} body holds no FlowFile`);
    } else {
      let flowFile = session.create();
      created.push(flowFile);
      flowFile = await writeRequestBody(session, flowFile, request, listener.config.limits);
      created[0] = flowFile;
      const filename = request.headers.filename;
      if (typeof filename === 'string' && filename !== '') attributes.set('filename', filename);
      flowFile = session.putAllAttributes(flowFile, attributes);
      created[0] = flowFile;
    }
  } catch (e) {
    session.remove(created);
    const refusal = refusalFor(e);
    if (refusal.status >= 500) logger.warn(`could not store a request from ${request.socket.remoteAddress ?? 'a client'}`, e);
    reply(response, refusal);
    return 0;
  }
  const durationMs = Date.now() - pending.receivedAt;
  const details = `from ${request.socket.remoteAddress ?? 'an unknown address'}`;
  for (const [i, flowFile] of created.entries()) {
    const sourceSystemFlowFileId = sourceIds[i];
    session.provenance.receive(flowFile, transitUri, {
      details,
      durationMs,
      ...(sourceSystemFlowFileId === undefined ? {} : { sourceSystemFlowFileId }),
    });
  }
  session.transfer(created, 'success');
  return created.length;
}

function isFlowFileV3(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() === FLOWFILE_V3_MIME_TYPE;
}

function refusalFor(e: unknown): Reply {
  if (e instanceof RequestBodyError) return { status: e.status, message: e.message };
  if (e instanceof FlowFileV3Error) {
    return { status: 400, message: `malformed ${FLOWFILE_V3_MIME_TYPE} body: ${e.message}; nothing was kept` };
  }
  return { status: 500, message: `the request could not be stored: ${e instanceof Error ? e.message : String(e)}` };
}
