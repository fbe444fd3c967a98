/** @sluice/server: the composition root (the headless runner for now; the HTTP server comes next). */
export { formatLogLine, type RunOptions, runFlow, standardRegistry } from './run-command.ts';
