/** @sluice/engine: FlowFiles, repositories, queues, sessions, scheduling, provenance and state. */
export {};
