import { type ComponentLogger, type LogLevel, logLevelRank } from '@sluice/api';
import type { BulletinRepository } from './status/bulletins.ts';

/** One log line from the engine or a component. */
export interface LogEntry {
  readonly time: number;
  readonly level: LogLevel;
  readonly componentId?: string;
  readonly componentName?: string;
  readonly componentType?: string;
  readonly message: string;
  readonly error?: unknown;
}

/** Where log lines go (the CLI writes them to stderr; tests may collect them). */
export type LogSink = (entry: LogEntry) => void;

/** Renders an error for a log line or bulletin: its message, without a stack. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Identity of the component a logger speaks for. */
export interface LoggerTarget {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly groupId?: string;
  /** Read on every call so a reconfigured level applies at once. */
  bulletinLevel(): LogLevel;
}

/** The logger handed to a component: everything to the sink, bulletin level and above to bulletins. */
export function createComponentLogger(
  target: LoggerTarget,
  sink: LogSink,
  bulletins: BulletinRepository,
  minLevel: LogLevel,
): ComponentLogger {
  const log = (level: LogLevel, message: string, error?: unknown): void => {
    if (logLevelRank(level) < logLevelRank(minLevel) && logLevelRank(level) < logLevelRank(target.bulletinLevel())) return;
    const text = error === undefined ? message : `${message}: ${errorText(error)}`;
    if (logLevelRank(level) >= logLevelRank(minLevel)) {
      sink({
        time: Date.now(),
        level,
        componentId: target.id,
        componentName: target.name,
        componentType: target.type,
        message,
        ...(error === undefined ? {} : { error }),
      });
    }
    if (logLevelRank(level) >= logLevelRank(target.bulletinLevel())) {
      bulletins.add({
        level,
        componentId: target.id,
        componentName: target.name,
        componentType: target.type,
        ...(target.groupId === undefined ? {} : { groupId: target.groupId }),
        message: text,
      });
    }
  };
  return {
    trace: (m, e) => log('TRACE', m, e),
    debug: (m, e) => log('DEBUG', m, e),
    info: (m, e) => log('INFO', m, e),
    warn: (m, e) => log('WARN', m, e),
    error: (m, e) => log('ERROR', m, e),
    isEnabled: (level) => logLevelRank(level) >= Math.min(logLevelRank(minLevel), logLevelRank(target.bulletinLevel())),
  };
}
