#!/usr/bin/env -S node --max-semi-space-size=64
import { parseArgs } from 'node:util';
import { LOG_LEVELS, type LogLevel } from '@sluice/api';

// Commands load their modules when run: `sluice run` must start fast (it is restarted under
// supervisors and crash tests), without the HTTP server's dependencies.

const USAGE = `Usage:
  sluice start [--port 8080] [--host 127.0.0.1] [--data-dir ./data] [--tls-key key.pem --tls-cert cert.pem [--tls-client-ca ca.pem]]
               [--allow-path <dir>]... [--allow-origin <origin>]... [--durability process|power]
               [--provenance durable|volatile|off] [--log-level INFO]
      Runs the server (REST API, live updates, the flow) until SIGTERM/SIGINT. The first start on an
      empty data dir creates a login and prints it once, and loads a small demo flow, stopped.
      /metrics needs a login or the bearer token in SLUICE_METRICS_TOKEN. Site-to-Site clients identify
      with the tokens in SLUICE_S2S_TOKENS (identity=token,...; see docs/site-to-site.md).

  sluice run <flow.json> [--data-dir ./data] [--durability process|power] [--provenance durable|volatile|off]
             [--allow-path <dir>]... [--log-level INFO]
      Runs a flow without the UI until SIGTERM/SIGINT, then stops cleanly.

  sluice set-credentials [--data-dir ./data] [--username admin] [--role admin|operator|viewer] [--password-stdin]
      Sets a user's password (generated and printed when not given on stdin), creating the user if needed.

  sluice export [--data-dir ./data] [--group <id>] [--output flow.json]
      Writes the stored flow (or one process group) as a flow document; sensitive values are left out.

  sluice import <flow.json> [--data-dir ./data] [--group <id>] [--keep-run-states]
      Replaces the stored flow (or adds the document as a process group inside <id>) while the server
      is stopped, and reports what could not be mapped.

Options:
  --data-dir     where the flow, users, key file and repositories live (default ./data)
  --durability   process: survives kill -9 (default); power: fsync group commits, survives power loss
  --provenance   durable: events journaled and indexed on disk, kept 30 days / 10 GB (default);
                 volatile: the latest events in memory only, lost on restart (faster);
                 off: no provenance events at all (fastest; no lineage)
  --allow-path   a directory file processors may use (repeatable; default: the working directory)
  --log-level    TRACE, DEBUG, INFO (default), WARN or ERROR
`;

function fail(message: string): number {
  process.stderr.write(`${message}\n\n${USAGE}`);
  return 2;
}

const write = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function logLevel(value: string | undefined): LogLevel | undefined {
  const level = (value ?? 'INFO').toUpperCase();
  return LOG_LEVELS.find((l): l is LogLevel => l === level);
}

type ProvenanceMode = 'durable' | 'volatile' | 'off';

function provenanceMode(value: string | undefined): ProvenanceMode | undefined {
  const mode = value ?? 'durable';
  return mode === 'durable' || mode === 'volatile' || mode === 'off' ? mode : undefined;
}

function durability(value: string | undefined): 'process' | 'power' | undefined {
  const mode = value ?? 'process';
  return mode === 'process' || mode === 'power' ? mode : undefined;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(rest);
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
  const v = parsed.values;
  const dataDir = v['data-dir'] ?? './data';
  switch (command) {
    case 'run': {
      const flowPath = parsed.positionals[0];
      if (flowPath === undefined) return fail('sluice run needs a flow file');
      const mode = durability(v.durability);
      if (mode === undefined) return fail(`--durability must be process or power, not "${v.durability ?? ''}"`);
      const provenance = provenanceMode(v.provenance);
      if (provenance === undefined) return fail(`--provenance must be durable, volatile or off, not "${v.provenance ?? ''}"`);
      const level = logLevel(v['log-level']);
      if (level === undefined) return fail(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
      const { runFlow } = await import('./run-command.ts');
      return runFlow({ flowPath, dataDir, durability: mode, provenance, allowPaths: v['allow-path'] ?? [], logLevel: level });
    }
    case 'start': {
      const port = Number(v.port ?? '8080');
      if (!Number.isInteger(port) || port < 0 || port > 65535) return fail(`--port must be a port number, not "${v.port ?? ''}"`);
      const mode = durability(v.durability);
      if (mode === undefined) return fail(`--durability must be process or power, not "${v.durability ?? ''}"`);
      const provenance = provenanceMode(v.provenance);
      if (provenance === undefined) return fail(`--provenance must be durable, volatile or off, not "${v.provenance ?? ''}"`);
      const level = logLevel(v['log-level']);
      if (level === undefined) return fail(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
      const { startServer } = await import('./start-command.ts');
      return startServer({
        port,
        host: v.host ?? '127.0.0.1',
        dataDir,
        tlsKey: v['tls-key'],
        tlsCert: v['tls-cert'],
        tlsClientCa: v['tls-client-ca'],
        allowPaths: v['allow-path'] ?? [],
        allowOrigins: v['allow-origin'] ?? [],
        durability: mode,
        provenance,
        logLevel: level,
        metricsToken: process.env.SLUICE_METRICS_TOKEN,
        siteToSiteTokens: process.env.SLUICE_S2S_TOKENS,
      });
    }
    case 'set-credentials': {
      const { setCredentials } = await import('./admin-commands.ts');
      return setCredentials({
        dataDir,
        username: v.username ?? 'admin',
        role: v.role,
        password: v['password-stdin'] === true ? await readStdin() : undefined,
        write,
      });
    }
    case 'export': {
      const { exportFlow } = await import('./admin-commands.ts');
      return exportFlow({ dataDir, groupId: v.group, output: v.output, write });
    }
    case 'import': {
      const file = parsed.positionals[0];
      if (file === undefined) return fail('sluice import needs a flow file');
      const { importFlow } = await import('./admin-commands.ts');
      return importFlow({ dataDir, file, groupId: v.group, keepRunStates: v['keep-run-states'] === true, write });
    }
    default:
      return fail(`unknown command "${command}"`);
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      durability: { type: 'string' },
      provenance: { type: 'string' },
      'allow-path': { type: 'string', multiple: true },
      'allow-origin': { type: 'string', multiple: true },
      'log-level': { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-client-ca': { type: 'string' },
      username: { type: 'string' },
      role: { type: 'string' },
      'password-stdin': { type: 'boolean' },
      group: { type: 'string' },
      output: { type: 'string' },
      'keep-run-states': { type: 'boolean' },
    },
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
