#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { LOG_LEVELS, type LogLevel } from '@sluice/api';
import { runFlow } from './run-command.ts';

const USAGE = `Usage:
  sluice run <flow.json> [--data-dir ./data] [--durability process|power] [--allow-path <dir>]... [--log-level INFO]
      Runs a flow without the UI until SIGTERM/SIGINT, then stops cleanly.

Options:
  --data-dir     where repositories live (default ./data)
  --durability   process: survives kill -9 (default); power: fsync group commits, survives power loss
  --allow-path   a directory file processors may use (repeatable; default: the working directory)
  --log-level    TRACE, DEBUG, INFO (default), WARN or ERROR
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'run') {
    process.stderr.write(`unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(rest);
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return 2;
  }
  const flowPath = parsed.positionals[0];
  if (flowPath === undefined) {
    process.stderr.write(`sluice run needs a flow file\n\n${USAGE}`);
    return 2;
  }
  const durability = parsed.values.durability ?? 'process';
  if (durability !== 'process' && durability !== 'power') {
    process.stderr.write(`--durability must be process or power, not "${durability}"\n`);
    return 2;
  }
  const level = (parsed.values['log-level'] ?? 'INFO').toUpperCase();
  const logLevel = LOG_LEVELS.find((l): l is LogLevel => l === level);
  if (logLevel === undefined) {
    process.stderr.write(`--log-level must be one of ${LOG_LEVELS.join(', ')}, not "${level}"\n`);
    return 2;
  }
  return runFlow({
    flowPath,
    dataDir: parsed.values['data-dir'] ?? './data',
    durability,
    allowPaths: parsed.values['allow-path'] ?? [],
    logLevel,
  });
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      durability: { type: 'string' },
      'allow-path': { type: 'string', multiple: true },
      'log-level': { type: 'string' },
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
