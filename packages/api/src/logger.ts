/** Log levels, lowest first. A component's bulletin level (default WARN) decides which become bulletins. */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Numeric rank of a level, for comparisons. */
export function logLevelRank(level: LogLevel): number {
  return LOG_LEVELS.indexOf(level);
}

/**
 * The logger a component receives. Messages at or above the component's bulletin level become
 * bulletins on the canvas; everything also goes to the engine's log sink.
 */
export interface ComponentLogger {
  trace(message: string, error?: unknown): void;
  debug(message: string, error?: unknown): void;
  info(message: string, error?: unknown): void;
  warn(message: string, error?: unknown): void;
  error(message: string, error?: unknown): void;
  isEnabled(level: LogLevel): boolean;
}
