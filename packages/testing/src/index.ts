/** @sluice/testing: a TestRunner for one processor, on the real engine. */
export { type TestFlowFile, TestRunner, type TestRunnerOptions } from './test-runner.ts';
