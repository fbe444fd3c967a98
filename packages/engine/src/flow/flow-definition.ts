import { z } from 'zod';

/** The flow document format version this engine reads and writes. */
export const FLOW_FORMAT_VERSION = 1;

const id = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z0-9._:-]+$/, 'may only contain letters, digits and . _ : -');

const position = z.object({ x: z.number(), y: z.number() }).strict();

const runState = z.enum(['RUNNING', 'STOPPED', 'DISABLED']);

/** Processor scheduling, with NiFi's defaults. */
const scheduling = z
  .object({
    strategy: z.enum(['timer', 'cron']).default('timer'),
    /** Timer period ("0 sec" = as fast as work allows) or a Quartz cron expression. */
    period: z.string().default('0 sec'),
    concurrentTasks: z.number().int().min(1).max(64).default(1),
    runDuration: z.string().default('0 ms'),
    penaltyDuration: z.string().default('30 sec'),
    yieldDuration: z.string().default('1 sec'),
  })
  .strict();

const retry = z
  .object({
    relationships: z.array(z.string()).default([]),
    count: z.number().int().min(0).max(100).default(10),
    backoff: z.enum(['penalize', 'yield']).default('penalize'),
    maxBackoff: z.string().default('10 mins'),
  })
  .strict();

const properties = z.record(z.string(), z.string().nullable());

const processor = z
  .object({
    id,
    name: z.string().min(1).max(256),
    type: z.string().min(1),
    position: position.optional(),
    comments: z.string().optional(),
    properties: properties.default({}),
    scheduling: scheduling.default(() => scheduling.parse({})),
    bulletinLevel: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('WARN'),
    autoTerminate: z.array(z.string()).default([]),
    retry: retry.optional(),
    state: runState.default('STOPPED'),
  })
  .strict();

const port = z
  .object({
    id,
    name: z.string().min(1).max(256),
    position: position.optional(),
    comments: z.string().optional(),
    state: runState.default('RUNNING'),
    /** Root-group ports reachable over Site-to-Site. */
    allowRemoteAccess: z.boolean().optional(),
    /**
     * Site-to-Site clients (token identities or certificate DNs) allowed to use this root-group
     * port; `"*"` admits every identified client. Empty or absent: nobody.
     */
    allowedIdentities: z.array(z.string().min(1).max(1024)).optional(),
  })
  .strict();

/** A port of a remote instance, as seen by a Remote Process Group (connections name its `id`). */
const remotePort = z
  .object({
    /** Local id: connections to (or from) this remote port use it. */
    id,
    /** The remote port's name (or its id on the remote instance). */
    name: z.string().min(1).max(256),
    /** The remote port's id, when known; otherwise it is looked up by name. */
    remoteId: z.string().min(1).max(256).optional(),
    useCompression: z.boolean().default(false),
    /** Batch limits of one transaction (0 / absent: NiFi's defaults, 500 ms of sending). */
    batchCount: z.number().int().min(0).default(0),
    batchSize: z.string().default('0 B'),
    batchDuration: z.string().default('0 sec'),
    concurrentTasks: z.number().int().min(1).max(64).default(1),
    /** RUNNING = transmitting. */
    state: runState.default('RUNNING'),
  })
  .strict();

/** A Remote Process Group: another instance's root-group ports, reached over Site-to-Site. */
const remoteProcessGroup = z
  .object({
    id,
    name: z.string().min(1).max(256),
    position: position.optional(),
    comments: z.string().optional(),
    /** The remote instance: one URL or several, comma-separated (`http://core:8080/nifi`). */
    targetUris: z.string().min(1),
    transport: z.enum(['HTTP']).default('HTTP'),
    /**
     * Bearer token identifying this instance to the remote (Expression Language and parameters
     * allowed: keep it in a sensitive parameter, `#{core-token}`, or an environment variable).
     */
    accessToken: z.string().optional(),
    /**
     * An SSL context service (id) in scope for https URLs: the CAs to trust and, for mutual TLS, this
     * instance's client certificate (how a secured NiFi identifies a Site-to-Site client).
     */
    sslContextService: z.string().optional(),
    communicationsTimeout: z.string().default('30 sec'),
    /** How long a remote port waits after the remote was full or unreachable. */
    yieldDuration: z.string().default('10 sec'),
    inputPorts: z.array(remotePort).default([]),
    outputPorts: z.array(remotePort).default([]),
  })
  .strict();

const funnel = z.object({ id, position: position.optional() }).strict();

const label = z
  .object({
    id,
    text: z.string().max(10_000),
    position: position.optional(),
    width: z.number().positive().optional(),
    height: z.number().positive().optional(),
    style: z.record(z.string(), z.string()).optional(),
  })
  .strict();

const controllerService = z
  .object({
    id,
    name: z.string().min(1).max(256),
    type: z.string().min(1),
    comments: z.string().optional(),
    properties: properties.default({}),
    state: z.enum(['ENABLED', 'DISABLED']).default('DISABLED'),
  })
  .strict();

const connectionEnd = z.object({ id }).strict();

const connection = z
  .object({
    id,
    name: z.string().max(256).optional(),
    source: connectionEnd,
    destination: connectionEnd,
    /** Relationships of a processor source; ignored for ports and funnels. */
    relationships: z.array(z.string()).default([]),
    backPressureObjectThreshold: z.number().int().min(0).default(10_000),
    backPressureDataSizeThreshold: z.string().default('1 GB'),
    flowFileExpiration: z.string().default('0 sec'),
    prioritizers: z
      .array(z.enum(['FirstInFirstOut', 'OldestFlowFileFirst', 'NewestFlowFileFirst', 'PriorityAttribute']))
      .default([]),
    bends: z.array(position).optional(),
  })
  .strict();

const parameter = z
  .object({
    name: z
      .string()
      .min(1)
      .regex(/^[A-Za-z0-9 ._-]+$/, 'may only contain letters, digits, spaces and . _ -'),
    value: z.string().nullable(),
    sensitive: z.boolean().default(false),
    description: z.string().optional(),
  })
  .strict();

const parameterContext = z
  .object({
    id,
    name: z.string().min(1).max(256),
    description: z.string().optional(),
    parameters: z.array(parameter).default([]),
    /** Contexts whose parameters this one inherits, highest precedence first. */
    inherits: z.array(id).default([]),
  })
  .strict();

/** A process group: the canvas, or a box on it holding its own components. */
export interface ProcessGroupDefinition {
  id: string;
  name: string;
  position?: { x: number; y: number } | undefined;
  comments?: string | undefined;
  parameterContextId?: string | undefined;
  processors: ProcessorDefinitionEntry[];
  connections: ConnectionDefinition[];
  inputPorts: PortDefinition[];
  outputPorts: PortDefinition[];
  funnels: FunnelDefinition[];
  labels: LabelDefinition[];
  controllerServices: ControllerServiceDefinition[];
  processGroups: ProcessGroupDefinition[];
  /** Absent in documents written before Remote Process Groups existed. */
  remoteProcessGroups?: RemoteProcessGroupDefinition[] | undefined;
}

/** A process group as a document may write it (defaults not yet filled in). */
export interface ProcessGroupInput {
  id: string;
  name: string;
  position?: { x: number; y: number } | undefined;
  comments?: string | undefined;
  parameterContextId?: string | undefined;
  processors?: z.input<typeof processor>[] | undefined;
  connections?: z.input<typeof connection>[] | undefined;
  inputPorts?: z.input<typeof port>[] | undefined;
  outputPorts?: z.input<typeof port>[] | undefined;
  funnels?: z.input<typeof funnel>[] | undefined;
  labels?: z.input<typeof label>[] | undefined;
  controllerServices?: z.input<typeof controllerService>[] | undefined;
  processGroups?: ProcessGroupInput[] | undefined;
  remoteProcessGroups?: z.input<typeof remoteProcessGroup>[] | undefined;
}

const processGroup: z.ZodType<ProcessGroupDefinition, ProcessGroupInput> = z.lazy(() => processGroupShape);

const processGroupShape = z
  .object({
    id,
    name: z.string().min(1).max(256),
    position: position.optional(),
    comments: z.string().optional(),
    parameterContextId: id.optional(),
    processors: z.array(processor).default([]),
    connections: z.array(connection).default([]),
    inputPorts: z.array(port).default([]),
    outputPorts: z.array(port).default([]),
    funnels: z.array(funnel).default([]),
    labels: z.array(label).default([]),
    controllerServices: z.array(controllerService).default([]),
    remoteProcessGroups: z.array(remoteProcessGroup).default([]),
    get processGroups(): z.ZodDefault<z.ZodArray<typeof processGroup>> {
      return z.array(processGroup).default([]);
    },
  })
  .strict();

/** The zod schema of a whole flow document (also the source of `docs/flow.schema.json`). */
export const flowDocumentSchema = z
  .object({
    sluiceFlow: z.literal(FLOW_FORMAT_VERSION, { error: `sluiceFlow must be ${FLOW_FORMAT_VERSION} (the flow format version)` }),
    name: z.string().optional(),
    parameterContexts: z.array(parameterContext).default([]),
    rootGroup: processGroup,
  })
  .strict();

export type FlowDocument = z.output<typeof flowDocumentSchema>;
export type FlowDocumentInput = z.input<typeof flowDocumentSchema>;
export type ProcessorDefinitionEntry = z.output<typeof processor>;
export type ProcessorScheduling = z.output<typeof scheduling>;
export type RetrySettings = z.output<typeof retry>;
export type ConnectionDefinition = z.output<typeof connection>;
export type PortDefinition = z.output<typeof port>;
export type RemoteProcessGroupDefinition = z.output<typeof remoteProcessGroup>;
export type RemotePortDefinition = z.output<typeof remotePort>;
export type FunnelDefinition = z.output<typeof funnel>;
export type LabelDefinition = z.output<typeof label>;
export type ControllerServiceDefinition = z.output<typeof controllerService>;
export type ParameterContextDefinition = z.output<typeof parameterContext>;
export type RunState = z.output<typeof runState>;

/** One problem found in a flow document, located as precisely as possible. */
export interface FlowProblem {
  /** Where in the document: `rootGroup.processors[2].properties.Regex`. */
  readonly path: string;
  readonly componentId?: string;
  readonly componentName?: string;
  readonly property?: string;
  readonly message: string;
}

/** Thrown when a flow document cannot be applied; lists every problem, and nothing was changed. */
export class FlowValidationError extends Error {
  override readonly name = 'FlowValidationError';
  constructor(readonly problems: readonly FlowProblem[]) {
    super(
      `the flow cannot be applied (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `- ${describeProblem(p)}`).join('\n'),
    );
  }
}

/** One line for a problem: the component, the property, then what is wrong. */
export function describeProblem(problem: FlowProblem): string {
  const component = [
    problem.componentName === undefined ? '' : `"${problem.componentName}"`,
    problem.componentId === undefined ? '' : `(${problem.componentId})`,
  ]
    .filter((s) => s !== '')
    .join(' ');
  const where = [component, problem.property === undefined ? '' : `property "${problem.property}"`]
    .filter((s) => s !== '')
    .join(', ');
  return `${where === '' ? '' : `${where}: `}${problem.message} [at ${problem.path}]`;
}

function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(document)' : out;
}

/** Looks up the component a document path points into, to name it in messages. */
function componentAt(document: unknown, path: readonly PropertyKey[]): { id?: string; name?: string } {
  let node: unknown = document;
  let found: { id?: string; name?: string } = {};
  for (const part of path) {
    if (typeof node !== 'object' || node === null) break;
    node = Reflect.get(node, part);
    if (typeof node === 'object' && node !== null && !Array.isArray(node)) {
      const nodeId: unknown = Reflect.get(node, 'id');
      const nodeName: unknown = Reflect.get(node, 'name');
      if (typeof nodeId === 'string') {
        found = { id: nodeId };
        if (typeof nodeName === 'string') found.name = nodeName;
      }
    }
  }
  return found;
}

/**
 * Parses an untrusted flow document (already JSON-decoded). Checks the shape only; the engine's
 * validator checks types, properties and wiring.
 * @throws {FlowValidationError} listing every shape problem with its path and component.
 */
export function parseFlowDocument(input: unknown): FlowDocument {
  const result = flowDocumentSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue): FlowProblem => {
    const component = componentAt(input, issue.path);
    const last = issue.path[issue.path.length - 1];
    const inProperties = issue.path.length >= 2 && issue.path[issue.path.length - 2] === 'properties';
    return {
      path: pathText(issue.path),
      ...(component.id === undefined ? {} : { componentId: component.id }),
      ...(component.name === undefined ? {} : { componentName: component.name }),
      ...(inProperties && typeof last === 'string' ? { property: last } : {}),
      message: issue.message,
    };
  });
  throw new FlowValidationError(problems);
}

/**
 * Parses flow document text (JSON).
 * @throws {FlowValidationError} for malformed JSON (with the position) or an invalid document.
 */
export function parseFlowJson(text: string): FlowDocument {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new FlowValidationError([
      { path: '(document)', message: `not valid JSON: ${e instanceof Error ? e.message : String(e)}` },
    ]);
  }
  return parseFlowDocument(value);
}

/** An empty flow: a root group and nothing in it. */
export function emptyFlow(): FlowDocument {
  return parseFlowDocument({ sluiceFlow: FLOW_FORMAT_VERSION, rootGroup: { id: 'root', name: 'Sluice' } });
}

/** The JSON Schema of the flow document, generated from the zod schema. */
export function flowJsonSchema(): Record<string, unknown> {
  return { ...z.toJSONSchema(flowDocumentSchema, { io: 'input', unrepresentable: 'any' }) };
}
