/**
 * Mounts the Site-to-Site endpoints (`/nifi-api/site-to-site`, `/nifi-api/data-transfer/...`) in
 * front of the REST API: they read the raw request stream, so they must run before any body parser,
 * and they have their own access control (client identities by token or client certificate, per
 * port allow-lists in the flow), separate from editor logins and CSRF.
 */
import type { Engine, LogEntry } from '@sluice/engine';
import { SiteToSiteServer } from '@sluice/site-to-site';
import type { Express, NextFunction, Request, Response } from 'express';
import { engineSiteToSitePorts } from './engine-ports.ts';

/** Site-to-Site settings of a server. */
export interface SiteToSiteOptions {
  /**
   * Client identities and their bearer tokens: identity -> token (`{ "edge-1": "s3cret" }`). A
   * port admits an identity listed in its `allowedIdentities` (or `*` for any identity here).
   */
  readonly tokens?: Readonly<Record<string, string>>;
  /** Transaction TTL in ms (30,000, NiFi's `nifi.remote.input.http.transaction.ttl`). */
  readonly transactionTtlMs?: number;
  /** Host advertised in the peer list (default: the host the client used). */
  readonly host?: string;
}

/**
 * Parses `SLUICE_S2S_TOKENS`: `identity=token` pairs separated by commas.
 * @throws {Error} naming the malformed entry.
 */
export function parseTokenList(text: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const entry of text.split(',')) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    const at = trimmed.indexOf('=');
    const identity = trimmed.slice(0, at).trim();
    const token = trimmed.slice(at + 1).trim();
    if (at <= 0 || identity === '' || token === '')
      throw new Error(`Site-to-Site token "${trimmed.slice(0, 40)}" must be written identity=token`);
    if (token.length < 16) throw new Error(`the Site-to-Site token of "${identity}" is shorter than 16 characters`);
    out[identity] = token;
  }
  return out;
}

/** Adds the Site-to-Site handler to `app` (call before body parsers) and returns it. */
export function mountSiteToSite(
  app: Express,
  engine: Engine,
  options: SiteToSiteOptions,
  log: (entry: Omit<LogEntry, 'time'>) => void,
): SiteToSiteServer {
  const tokens = new Map<string, string>();
  for (const [identity, token] of Object.entries(options.tokens ?? {})) tokens.set(token, identity);
  const queued = (): number => {
    let count = 0;
    for (const connection of engine.connections()) count += connection.queue.size().count;
    return count;
  };
  const component = (level: LogEntry['level']) => (message: string, error?: unknown) =>
    log({ level, message: `Site-to-Site: ${message}`, ...(error === undefined ? {} : { error }) });
  const server = new SiteToSiteServer({
    id: engine.flow.rootGroup.id,
    name: engine.flow.name ?? engine.flow.rootGroup.name,
    ports: engineSiteToSitePorts(engine),
    tokens,
    flowFileCount: queued,
    ...(options.transactionTtlMs === undefined ? {} : { transactionTtlMs: options.transactionTtlMs }),
    ...(options.host === undefined ? {} : { host: options.host }),
    logger: {
      trace: component('TRACE'),
      debug: component('DEBUG'),
      info: component('INFO'),
      warn: component('WARN'),
      error: component('ERROR'),
      isEnabled: () => true,
    },
  });
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (!server.handle(req, res)) next();
  });
  return server;
}
