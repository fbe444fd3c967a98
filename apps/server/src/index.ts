/** @sluice/server: the composition root: the HTTP server (REST API, live updates, security) and the headless runner. */
export { createServer, SERVER_VERSION, type ServerOptions, type SluiceServer } from './app.ts';
export { formatLogLine, type RunOptions, runFlow, standardRegistry } from './run-command.ts';
