/**
 * `sluice run` as a real child process, for the tests that kill Sluice with SIGKILL and check what
 * survived: the CLI runs from source (tsx with the `sluice-source` export condition).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const CLI = new URL('./cli.ts', import.meta.url).pathname;

/** A running `sluice run` child and everything it printed so far. */
export interface SluiceRun {
  readonly child: ChildProcess;
  output(): string;
}

/**
 * Starts `sluice run <flowFile>` with its data in `<root>/data`, logging at WARN. File processors may
 * use `root` unless `allowPath` is false (then only the working directory).
 */
export function startSluiceRun(root: string, flowFile: string, options: { allowPath?: boolean } = {}): SluiceRun {
  let output = '';
  const allow = options.allowPath === false ? [] : ['--allow-path', root];
  const child = spawn(
    process.execPath,
    [
      '--conditions=sluice-source',
      '--import',
      'tsx',
      CLI,
      'run',
      flowFile,
      '--data-dir',
      join(root, 'data'),
      ...allow,
      '--log-level',
      'WARN',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  return { child, output: () => output };
}

/** Resolves with the exit code once the child has exited (null when a signal ended it). */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
