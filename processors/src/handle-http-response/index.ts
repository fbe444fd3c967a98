import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { defineProcessor, type FlowFile, type ProcessContext, type ProcessSession, regex, service, string } from '@sluice/api';
import { HTTP_CONTEXT_MAP_API, type HttpContextMap } from '../http-context-map/index.ts';
import { HEADER_NAME } from '../network-support/http-intake.ts';
import { whole } from '../network-support/http-listener.ts';

/** FlowFiles answered per trigger, in parallel. */
const BATCH = 50;
/** A client that takes nothing of the response for this long is given up on. */
const WRITE_IDLE_MS = 30_000;
const FAILURE_REASON = 'handlehttpresponse.failure.reason';

type Property = 'httpContextMap' | 'statusCode' | 'attributesAsHeaders';

/** Answers the request a HandleHttpRequest received, with the FlowFile as the body (NiFi's HandleHttpResponse). */
export const HandleHttpResponse = defineProcessor({
  type: 'HandleHttpResponse',
  description:
    "Answers the HTTP request a FlowFile came from (received by HandleHttpRequest and found in the HTTP context map by the http.context.identifier attribute): the status code, headers from user-added properties (and optionally from attributes), Content-Type from mime.type, and the FlowFile's content as the body, streamed. A request that is no longer waiting (expired, client gone) or a status that is not a number from 100 to 599 sends the FlowFile to failure with the reason.",
  tags: ['http', 'https', 'response', 'web service', 'rest', 'egress'],
  input: 'required',
  properties: {
    httpContextMap: service(HTTP_CONTEXT_MAP_API, {
      displayName: 'HTTP Context Map',
      description: 'The context map the HandleHttpRequest put the request in.',
      required: true,
    }),
    statusCode: string({
      displayName: 'HTTP Status Code',
      description: 'The status to answer with, 100 to 599 (Expression Language, e.g. ${http.status}).',
      default: '200',
      required: true,
      expression: 'flowfile',
      validate: (v) => (/^\s*[1-5]\d\d\s*$/.test(v) ? undefined : `"${v}" is not an HTTP status code from 100 to 599`),
    }),
    attributesAsHeaders: regex({
      displayName: 'Attributes to add to the HTTP Response (Regex)',
      description: 'Attributes whose whole name matches become response headers of the same name.',
    }),
  },
  dynamicProperties: {
    description: 'Each property is a response header: its name the header name, its value (Expression Language) the value.',
    expression: 'flowfile',
    validate: (name) => (HEADER_NAME.test(name) ? undefined : `"${name}" is not a valid HTTP header name`),
  },
  relationships: {
    success: 'FlowFiles whose request was answered',
    failure: `FlowFiles that could not be sent as an answer; the attribute ${FAILURE_REASON} says why`,
  },
  readsAttributes: {
    'http.context.identifier': 'Which waiting request to answer (set by HandleHttpRequest)',
    'mime.type': 'The Content-Type of the answer, unless a Content-Type property is set',
    'http.request.url': "Recorded as the SEND event's transit URI",
  },
  writesAttributes: { [FAILURE_REASON]: 'Why the FlowFile went to failure' },
  async onTrigger(session, context) {
    const flowFiles = session.getBatch(BATCH);
    if (flowFiles.length === 0) return;
    const contextMap = context.getService<HttpContextMap>('httpContextMap');
    const headerPattern = whole(context.getProperty('attributesAsHeaders').asRegExp());
    await Promise.all(flowFiles.map((f) => respond(session, context, contextMap, headerPattern, f)));
  },
});

async function respond(
  session: ProcessSession,
  context: ProcessContext<Property>,
  contextMap: HttpContextMap,
  headerPattern: RegExp | undefined,
  flowFile: FlowFile,
): Promise<void> {
  const fail = (reason: string): void => {
    context.logger.warn(`could not answer for FlowFile ${flowFile.uuid}: ${reason}`);
    session.transfer(session.putAttribute(flowFile, FAILURE_REASON, reason), 'failure');
  };
  const id = flowFile.getAttribute('http.context.identifier');
  if (id === undefined || id === '') {
    fail('the FlowFile has no http.context.identifier attribute (it did not come from HandleHttpRequest)');
    return;
  }
  let status: number;
  let headers: Map<string, string>;
  try {
    const text = (context.getProperty('statusCode').evaluate(flowFile) ?? '').trim();
    status = Number(text);
    if (!/^[1-5]\d\d$/.test(text)) {
      fail(`the status code "${text}" is not a number from 100 to 599`);
      return;
    }
    headers = responseHeaders(context, headerPattern, flowFile);
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
    return;
  }
  const waiting = contextMap.complete(id);
  if (waiting === undefined) {
    fail(`request ${id} is no longer waiting for an answer (it expired, the client went away, or it was already answered)`);
    return;
  }
  const { request, response } = waiting;
  const started = Date.now();
  try {
    await send(response, status, headers, request.method === 'HEAD' || status === 204 || status === 304, session, flowFile);
  } catch (e) {
    response.destroy();
    fail(`the answer could not be sent: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  session.provenance.send(flowFile, flowFile.getAttribute('http.request.url') ?? `http://${request.headers.host ?? ''}`, {
    details: `answered ${status} to ${request.socket.remoteAddress ?? 'the client'}`,
    durationMs: Date.now() - started,
    force: true,
  });
  session.transfer(flowFile, 'success');
}

/** Headers from the attribute pattern, then from user-added properties (which win), then Content-Type. */
function responseHeaders(
  context: ProcessContext<Property>,
  headerPattern: RegExp | undefined,
  flowFile: FlowFile,
): Map<string, string> {
  const headers = new Map<string, string>();
  if (headerPattern !== undefined) {
    for (const [name, value] of flowFile.attributes) {
      if (headerPattern.test(name) && HEADER_NAME.test(name)) headers.set(name, value);
    }
  }
  for (const [name, property] of context.dynamicProperties) headers.set(name, property.evaluate(flowFile) ?? '');
  const hasContentType = [...headers.keys()].some((k) => k.toLowerCase() === 'content-type');
  const mimeType = flowFile.getAttribute('mime.type');
  if (!hasContentType && mimeType !== undefined && mimeType !== '') headers.set('Content-Type', mimeType);
  for (const [name, value] of headers) {
    // A value with a line break would split the header block: refuse it instead of letting Node throw mid-answer.
    if (/[\r\n\0]/.test(value)) throw new Error(`the value of header ${name} contains a line break or NUL`);
  }
  return headers;
}

async function send(
  response: ServerResponse,
  status: number,
  headers: ReadonlyMap<string, string>,
  bodyless: boolean,
  session: ProcessSession,
  flowFile: FlowFile,
): Promise<void> {
  for (const [name, value] of headers) response.setHeader(name, value);
  if (bodyless) {
    response.writeHead(status);
    response.end();
    await finished(response);
    return;
  }
  response.setHeader('Content-Length', flowFile.size);
  response.writeHead(status);
  if (flowFile.size === 0) {
    response.end();
    await finished(response);
    return;
  }
  // A client that stops reading must not hold this processor forever.
  response.setTimeout(WRITE_IDLE_MS, () => response.destroy(new Error(`the client took nothing for ${WRITE_IDLE_MS} ms`)));
  await pipeline(session.readStream(flowFile), response);
}

function finished(response: ServerResponse): Promise<void> {
  if (response.writableFinished) return Promise.resolve();
  return new Promise((resolve, reject) => {
    response.once('finish', () => resolve());
    response.once('error', reject);
    response.once('close', () => (response.writableFinished ? resolve() : reject(new Error('the client disconnected'))));
  });
}
