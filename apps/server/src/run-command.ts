import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type LogLevel, logLevelRank } from '@sluice/api';
import {
  describeProblem,
  Engine,
  ExtensionRegistry,
  errorText,
  FlowValidationError,
  type LogEntry,
  parseFlowJson,
} from '@sluice/engine';
import { standardProcessors, standardServices } from '@sluice/processors';
import { remotePortProcessors } from './site-to-site/remote-ports.ts';

/** Options of `sluice run`. */
export interface RunOptions {
  readonly flowPath: string;
  readonly dataDir: string;
  readonly durability: 'process' | 'power';
  /** The provenance repository: durable (default), volatile (in memory) or off. */
  readonly provenance?: 'durable' | 'volatile' | 'off';
  readonly allowPaths: readonly string[];
  readonly logLevel: LogLevel;
  /** Where log lines go (stderr by default). */
  readonly write?: (line: string) => void;
}

/** The registry of everything this build ships. */
export function standardRegistry(): ExtensionRegistry {
  return new ExtensionRegistry()
    .registerProcessors(standardProcessors)
    .registerProcessors(remotePortProcessors)
    .registerServices(standardServices);
}

/** Formats a log entry as one line: time, level, component, message. */
export function formatLogLine(entry: LogEntry): string {
  const who = entry.componentName === undefined ? 'sluice' : `${entry.componentType ?? ''} "${entry.componentName}"`;
  const error = entry.error === undefined ? '' : `: ${errorText(entry.error)}`;
  return `${new Date(entry.time).toISOString()} ${entry.level.padEnd(5)} [${who}] ${entry.message}${error}`;
}

/**
 * `sluice run <flow.json>`: runs a flow headless (like NiFi's MiNiFi) until SIGTERM or SIGINT, then
 * stops cleanly: sources stop first, sessions in flight finish, repositories flush.
 * Resolves with the process exit code.
 */
export async function runFlow(options: RunOptions, signals: NodeJS.EventEmitter = process): Promise<number> {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  let text: string;
  try {
    text = await readFile(options.flowPath, 'utf8');
  } catch (e) {
    write(`cannot read flow ${options.flowPath}: ${errorText(e)}`);
    return 2;
  }
  let engine: Engine;
  try {
    const document = parseFlowJson(text);
    engine = await Engine.open({
      dataDir: resolve(options.dataDir),
      registry: standardRegistry(),
      durability: options.durability,
      ...(options.provenance === undefined ? {} : { provenance: options.provenance }),
      fileRoots: options.allowPaths.length > 0 ? options.allowPaths : [process.cwd()],
      logLevel: options.logLevel,
      logSink: (entry) => {
        if (logLevelRank(entry.level) >= logLevelRank(options.logLevel)) write(formatLogLine(entry));
      },
    });
    const recovered = engine.recoveryReport;
    try {
      const report = await engine.applyFlow(document);
      write(
        `${new Date().toISOString()} INFO  [sluice] running ${options.flowPath} (data dir ${resolve(options.dataDir)}, durability ${options.durability}, provenance ${options.provenance ?? 'durable'}` +
          `${recovered === undefined ? '' : `, recovered in ${Math.round(recovered.durationMs)} ms`}${report.orphansDropped > 0 ? `, ${report.orphansDropped} orphaned FlowFiles dropped` : ''})`,
      );
    } catch (e) {
      await engine.shutdown();
      throw e;
    }
  } catch (e) {
    if (e instanceof FlowValidationError) {
      write(`the flow ${options.flowPath} cannot run:`);
      for (const problem of e.problems) write(`  - ${describeProblem(problem)}`);
      return 1;
    }
    write(`cannot start: ${errorText(e)}`);
    return 1;
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
        `${new Date().toISOString()} INFO  [sluice] ${signal}: stopping sources, finishing sessions in flight, flushing repositories`,
      );
      engine.shutdown().then(
        () => {
          write(`${new Date().toISOString()} INFO  [sluice] stopped cleanly`);
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
