import type { IncomingMessage } from 'node:http';
import {
  choice,
  dataSize,
  integer,
  type ProcessContext,
  regex,
  service,
  string,
  timePeriod,
  type ValidationContext,
} from '@sluice/api';
import { SSL_CONTEXT_API, type SslContext } from '../ssl-context-service/index.ts';
import {
  type AttributeOptions,
  type Authentication,
  authenticate,
  type BodyLimits,
  declaredTooLarge,
  HEADER_NAME,
  HttpIntake,
  type Reply,
} from './http-intake.ts';

/** Properties shared by ListenHTTP and HandleHttpRequest: where to listen, who may send, how much. */
export const LISTENER_PROPERTIES = {
  host: string({
    displayName: 'Listening Address',
    description:
      'Address to listen on. The default accepts connections from this host only; use 0.0.0.0 (or ::) for every interface.',
    default: '127.0.0.1',
    required: true,
    expression: 'environment',
  }),
  port: integer({
    displayName: 'Listening Port',
    description: 'TCP port to listen on. 0 picks a free port, which is logged when the processor starts (handy for tests).',
    required: true,
    min: 0,
    max: 65_535,
    expression: 'environment',
  }),
  sslContextService: service(SSL_CONTEXT_API, {
    displayName: 'SSL Context Service',
    description: 'Serve HTTPS with this key and certificate (and client authentication, if the service requires it).',
  }),
  allowedPaths: regex({
    displayName: 'Allowed Paths',
    description:
      'When set, only requests whose whole path (like /api/orders) matches this regular expression are accepted; others get 404.',
  }),
  authentication: choice(
    [
      { value: 'none', displayName: 'None', description: 'Anyone who can reach the port may send.' },
      { value: 'basic', displayName: 'HTTP Basic', description: 'Requests must carry the configured username and password.' },
      {
        value: 'header',
        displayName: 'Shared Secret Header',
        description: 'Requests must carry the configured secret in the configured header.',
      },
    ],
    {
      displayName: 'Authentication',
      description: 'Credentials a request must carry; others get 401. Use it with HTTPS, or the credentials travel in clear.',
      default: 'none',
      required: true,
    },
  ),
  username: string({
    displayName: 'Username',
    description: 'HTTP Basic username.',
    dependsOn: { property: 'authentication', values: ['basic'] },
  }),
  password: string({
    displayName: 'Password',
    description: 'HTTP Basic password.',
    sensitive: true,
    dependsOn: { property: 'authentication', values: ['basic'] },
  }),
  secretHeader: string({
    displayName: 'Secret Header',
    description: 'Name of the header that carries the shared secret.',
    default: 'X-Sluice-Secret',
    dependsOn: { property: 'authentication', values: ['header'] },
    validate: (v) => (HEADER_NAME.test(v) ? undefined : `"${v}" is not a valid HTTP header name`),
  }),
  secret: string({
    displayName: 'Shared Secret',
    description: 'The value the secret header must have.',
    sensitive: true,
    dependsOn: { property: 'authentication', values: ['header'] },
  }),
  maxRequestSize: dataSize({
    displayName: 'Max Request Size',
    description:
      'Largest request body accepted (after gzip decoding); larger ones get 413 Payload Too Large. Bodies are streamed to the content repository, never held in memory.',
    default: '100 MB',
    required: true,
    min: 1,
  }),
  requestReadTimeout: timePeriod({
    displayName: 'Request Read Timeout',
    description: 'A request body that stops arriving for this long is abandoned with 408 Request Timeout.',
    default: '30 sec',
    required: true,
    min: 100,
  }),
  headersAsAttributes: regex({
    displayName: 'HTTP Headers to Receive as Attributes (Regex)',
    description:
      'Only headers whose whole name matches (ignoring case) become http.headers.<name> attributes (lowercase names); every header when empty. The Authorization header and the secret header never do.',
  }),
  maxConcurrentRequests: integer({
    displayName: 'Max Concurrent Requests',
    description: 'Requests accepted and not yet answered, at most; more get 503 Service Unavailable with Retry-After at once.',
    default: '200',
    required: true,
    min: 1,
    max: 100_000,
  }),
  maxWaitForProcessing: timePeriod({
    displayName: 'Max Wait for Processing',
    description:
      "Requests are handed to the processor's triggers. When the processor is not triggered for this long (an outbound queue is full, it yields, it is stopping), waiting and new requests get 503 Service Unavailable with Retry-After instead of hanging. Keep the Run Schedule at 0 sec so an idle listener is triggered often.",
    default: '1 sec',
    required: true,
    min: 50,
  }),
} as const;

/** Names of the shared listener properties. */
export type ListenerProperty = keyof typeof LISTENER_PROPERTIES;

/** Cross-property checks of the shared listener properties. */
export function validateListener(context: ValidationContext<ListenerProperty>): string[] {
  const problems: string[] = [];
  const raw = (name: ListenerProperty): string => context.getProperty(name).raw ?? '';
  const auth = raw('authentication');
  if (auth === 'basic' && (raw('username') === '' || raw('password') === '')) {
    problems.push('HTTP Basic authentication needs a Username and a Password');
  }
  if (auth === 'basic' && raw('username').includes(':')) problems.push('the HTTP Basic Username may not contain ":"');
  if (auth === 'header' && raw('secret') === '') problems.push('Shared Secret Header authentication needs a Shared Secret');
  return problems;
}

/** The shared listener settings, read once when the processor starts. */
export interface ListenerConfig {
  readonly host: string;
  readonly port: number;
  readonly sslContext: SslContext | undefined;
  readonly allowedPaths: RegExp | undefined;
  readonly auth: Authentication;
  readonly limits: BodyLimits;
  readonly attributes: AttributeOptions;
  readonly maxConcurrent: number;
  readonly pickupTimeoutMs: number;
}

/** Reads the shared listener properties. @throws {PropertyValueError} for a value that cannot be used. */
export function listenerConfig(context: ProcessContext<ListenerProperty>): ListenerConfig {
  const authKind = context.getProperty('authentication').asString() ?? 'none';
  let auth: Authentication = { kind: 'none' };
  if (authKind === 'basic') {
    auth = {
      kind: 'basic',
      username: context.getProperty('username').asString() ?? '',
      password: context.getProperty('password').asString() ?? '',
    };
  } else if (authKind === 'header') {
    auth = {
      kind: 'header',
      header: context.getProperty('secretHeader').asString() ?? 'X-Sluice-Secret',
      secret: context.getProperty('secret').asString() ?? '',
    };
  }
  const excludedHeaders = new Set(['authorization', 'proxy-authorization']);
  if (auth.kind === 'header') excludedHeaders.add(auth.header.toLowerCase());
  const sslContext = context.getProperty('sslContextService').isSet
    ? context.getService<SslContext>('sslContextService')
    : undefined;
  const headerPattern = context.getProperty('headersAsAttributes').asRegExp(undefined, 'i');
  return {
    host: context.getProperty('host').asString() ?? '127.0.0.1',
    port: context.getProperty('port').asInteger() ?? 0,
    sslContext,
    allowedPaths: whole(context.getProperty('allowedPaths').asRegExp()),
    auth,
    limits: {
      maxBytes: context.getProperty('maxRequestSize').asDataSize() ?? 100 * 1024 * 1024,
      idleTimeoutMs: context.getProperty('requestReadTimeout').asTimePeriod() ?? 30_000,
    },
    attributes: {
      ...(headerPattern === undefined ? {} : { headerPattern: whole(headerPattern) }),
      excludedHeaders,
      scheme: sslContext === undefined ? 'http' : 'https',
    },
    maxConcurrent: context.getProperty('maxConcurrentRequests').asInteger() ?? 200,
    pickupTimeoutMs: context.getProperty('maxWaitForProcessing').asTimePeriod() ?? 1000,
  };
}

/**
 * Opens the server for a listener: checks allowed paths, credentials, the processor's own `screen`
 * (base path, methods) and the declared size before a request is queued, and logs where it listens.
 */
export async function openIntake(
  context: ProcessContext<ListenerProperty>,
  config: ListenerConfig,
  screen: (request: IncomingMessage, url: URL) => Reply | undefined,
): Promise<HttpIntake> {
  const intake = await HttpIntake.listen({
    host: config.host,
    port: config.port,
    ...(config.sslContext === undefined ? {} : { tls: config.sslContext.serverOptions() }),
    maxConcurrent: config.maxConcurrent,
    pickupTimeoutMs: config.pickupTimeoutMs,
    logger: context.logger,
    screen(request, url) {
      if (config.allowedPaths !== undefined && !config.allowedPaths.test(url.pathname)) {
        return { status: 404, message: `nothing is served at ${url.pathname}` };
      }
      // Credentials first: a client without them learns nothing about paths and methods.
      return authenticate(request, config.auth) ?? screen(request, url) ?? declaredTooLarge(request, config.limits.maxBytes);
    },
  });
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  context.logger.info(`listening on ${config.attributes.scheme}://${host}:${intake.port}`);
  return intake;
}

/** NiFi patterns match whole names (Java's Matcher.matches). */
export function whole(pattern: RegExp | undefined): RegExp | undefined {
  if (pattern === undefined || pattern.source === '(?:)') return undefined;
  return new RegExp(`^(?:${pattern.source})$`, pattern.flags.replace('g', ''));
}
