import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type LogLevel, logLevelRank } from '@sluice/api';
import { errorText } from '@sluice/engine';
import { createServer, SERVER_VERSION, type SluiceServer } from './app.ts';
import { formatLogLine } from './run-command.ts';
import { parseTokenList } from './site-to-site/mount.ts';

/** Options of `sluice start`. */
export interface StartOptions {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly tlsKey?: string | undefined;
  readonly tlsCert?: string | undefined;
  /** CA certificate (PEM) of Site-to-Site client certificates (mutual TLS). */
  readonly tlsClientCa?: string | undefined;
  readonly allowPaths: readonly string[];
  readonly allowOrigins: readonly string[];
  readonly durability: 'process' | 'power';
  /** The provenance repository: durable (default), volatile (in memory) or off. */
  readonly provenance?: 'durable' | 'volatile' | 'off';
  readonly logLevel: LogLevel;
  readonly metricsToken?: string | undefined;
  /** Site-to-Site client tokens, `identity=token,...` (SLUICE_S2S_TOKENS). */
  readonly siteToSiteTokens?: string | undefined;
  /** Where lines go (stderr by default). */
  readonly write?: (line: string) => void;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Where the editor's build lands (apps/editor/dist), relative to this file in src/ or dist/. */
export const EDITOR_DIR = fileURLToPath(new URL('../../editor/dist/', import.meta.url));

/**
 * `sluice start`: runs the server until SIGTERM or SIGINT, then shuts down cleanly (sockets closed,
 * sources stopped first, sessions in flight finished, repositories flushed).
 * Resolves with the process exit code.
 */
export async function startServer(options: StartOptions, signals: NodeJS.EventEmitter = process): Promise<number> {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = () => new Date().toISOString();
  if ((options.tlsKey === undefined) !== (options.tlsCert === undefined)) {
    write('--tls-key and --tls-cert go together');
    return 2;
  }
  if (options.tlsClientCa !== undefined && options.tlsKey === undefined) {
    write('--tls-client-ca needs --tls-key and --tls-cert');
    return 2;
  }
  let tls: { key: Buffer; cert: Buffer; ca?: Buffer } | undefined;
  if (options.tlsKey !== undefined && options.tlsCert !== undefined) {
    try {
      tls = { key: readFileSync(options.tlsKey), cert: readFileSync(options.tlsCert) };
      if (options.tlsClientCa !== undefined) tls.ca = readFileSync(options.tlsClientCa);
    } catch (e) {
      write(`cannot read the TLS key or certificate: ${errorText(e)}`);
      return 2;
    }
  }
  let siteToSiteTokens: Record<string, string> = {};
  try {
    siteToSiteTokens = parseTokenList(options.siteToSiteTokens ?? '');
  } catch (e) {
    write(`SLUICE_S2S_TOKENS: ${errorText(e)}`);
    return 2;
  }
  let server: SluiceServer;
  try {
    server = await createServer({
      dataDir: options.dataDir,
      host: options.host,
      port: options.port,
      ...(tls === undefined ? {} : { tls }),
      durability: options.durability,
      ...(options.provenance === undefined ? {} : { engine: { provenance: options.provenance } }),
      fileRoots: options.allowPaths.length > 0 ? options.allowPaths : [process.cwd()],
      allowedOrigins: options.allowOrigins,
      logLevel: options.logLevel,
      ...(options.metricsToken === undefined ? {} : { metricsToken: options.metricsToken }),
      editorDir: EDITOR_DIR,
      siteToSite: { tokens: siteToSiteTokens },
      logSink: (entry) => {
        if (logLevelRank(entry.level) >= logLevelRank(options.logLevel)) write(formatLogLine(entry));
      },
    });
  } catch (e) {
    write(`cannot start: ${errorText(e)}`);
    return 1;
  }
  write(`${now()} INFO  [sluice] Sluice ${SERVER_VERSION} listening on ${server.url} (data dir ${options.dataDir})`);
  if (options.provenance === 'volatile' || options.provenance === 'off') {
    write(
      `${now()} WARN  [sluice] provenance is ${options.provenance}: ${options.provenance === 'off' ? 'no events are recorded (no lineage)' : 'events are kept in memory only and lost on restart'}`,
    );
  }
  if (server.initialCredentials !== undefined) {
    const { username, password } = server.initialCredentials;
    // Printed once, to stdout (the log may be collected elsewhere); only the scrypt hash is stored.
    process.stdout.write(
      `\nGenerated login, shown only this once (stored hashed in ${options.dataDir}/users.json):\n` +
        `  username: ${username}\n  password: ${password}\n` +
        `Change it with: sluice set-credentials --data-dir ${options.dataDir}\n\n`,
    );
  }
  if (!LOOPBACK.has(options.host) && tls === undefined) {
    write(
      `${now()} WARN  [sluice] listening on ${options.host} without TLS: passwords and session cookies cross the network in the clear; use --tls-key/--tls-cert or a TLS proxy`,
    );
  }
  return new Promise((done) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        write(`${signal} again: exiting without waiting`);
        done(130);
        return;
      }
      stopping = true;
      write(
        `${now()} INFO  [sluice] ${signal}: closing connections, stopping sources, finishing sessions in flight, flushing repositories`,
      );
      server.close().then(
        () => {
          write(`${now()} INFO  [sluice] stopped cleanly`);
          done(0);
        },
        (e: unknown) => {
          write(`shutdown failed: ${errorText(e)}`);
          done(1);
        },
      );
    };
    signals.on('SIGTERM', () => stop('SIGTERM'));
    signals.on('SIGINT', () => stop('SIGINT'));
  });
}
