/**
 * Site-to-Site between two real Sluice servers on loopback: an edge instance whose Remote Process
 * Group pushes to the core's input port and pulls from its output port, through a proxy that cuts
 * or corrupts the exchange at every protocol step. Whatever happens, every FlowFile arrives
 * (duplicates only where the receiver committed and the answer was lost), with its uuid, and
 * provenance shows SEND on one side and RECEIVE on the other.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlowDocumentInput } from '@sluice/engine';
import { SENSITIVE_VALUE_SET } from '@sluice/protocol';
import {
  ChaosProxy,
  type Fault,
  ForbiddenError,
  SiteToSiteClient,
  TransactionNotFoundError,
  UnauthorizedError,
} from '@sluice/site-to-site';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type SluiceServer } from './app.ts';
import { Client, until } from './test-server.test-helper.ts';

const TOKEN = 'edge-token-0123456789abcdef';

interface CoreOptions {
  readonly backPressure?: number;
  readonly transactionTtlMs?: number;
  readonly allowed?: readonly string[];
}

function coreFlow(options: CoreOptions = {}): FlowDocumentInput {
  const allowedIdentities = [...(options.allowed ?? ['edge'])];
  return {
    sluiceFlow: 1,
    rootGroup: {
      id: 'root',
      name: 'core',
      processors: [
        { id: 'hold', name: 'Hold', type: 'UpdateAttribute', state: 'STOPPED' },
        { id: 'feeder', name: 'Feeder', type: 'GenerateFlowFile', state: 'STOPPED' },
      ],
      inputPorts: [{ id: 'from-edge', name: 'from-edge', allowRemoteAccess: true, allowedIdentities }],
      outputPorts: [{ id: 'to-edge', name: 'to-edge', allowRemoteAccess: true, allowedIdentities }],
      connections: [
        {
          id: 'received',
          source: { id: 'from-edge' },
          destination: { id: 'hold' },
          backPressureObjectThreshold: options.backPressure ?? 10_000,
        },
        { id: 'outbox', source: { id: 'feeder' }, destination: { id: 'to-edge' }, relationships: ['success'] },
      ],
    },
  };
}

interface EdgeOptions {
  readonly compression?: boolean;
  readonly push?: boolean;
  readonly pull?: boolean;
  readonly batchCount?: number;
}

function edgeFlow(coreUrl: string, options: EdgeOptions = {}): FlowDocumentInput {
  const state = (on: boolean | undefined) => (on === false ? 'STOPPED' : 'RUNNING');
  const port = { useCompression: options.compression ?? false, batchCount: options.batchCount ?? 0 };
  return {
    sluiceFlow: 1,
    parameterContexts: [{ id: 'secrets', name: 'secrets', parameters: [{ name: 'core-token', value: TOKEN, sensitive: true }] }],
    rootGroup: {
      id: 'root',
      name: 'edge',
      parameterContextId: 'secrets',
      processors: [
        { id: 'gen', name: 'Source', type: 'GenerateFlowFile', state: 'STOPPED' },
        { id: 'sink', name: 'Sink', type: 'UpdateAttribute', state: 'STOPPED' },
      ],
      remoteProcessGroups: [
        {
          id: 'core',
          name: 'core',
          targetUris: coreUrl,
          accessToken: '#{core-token}',
          communicationsTimeout: '5 sec',
          yieldDuration: '50 ms',
          inputPorts: [{ id: 'core-in', name: 'from-edge', state: state(options.push), ...port }],
          outputPorts: [{ id: 'core-out', name: 'to-edge', state: state(options.pull), ...port }],
        },
      ],
      connections: [
        { id: 'to-core', source: { id: 'gen' }, destination: { id: 'core-in' }, relationships: ['success'] },
        { id: 'pulled', source: { id: 'core-out' }, destination: { id: 'sink' }, relationships: ['success'] },
      ],
    },
  };
}

const open: SluiceServer[] = [];
const dirs: string[] = [];
const proxies: ChaosProxy[] = [];

async function server(
  initialFlow: FlowDocumentInput,
  transactionTtlMs?: number,
  tokens: Record<string, string> = { edge: TOKEN },
  tls?: { key: Buffer; cert: Buffer; ca: Buffer },
): Promise<SluiceServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-s2s-'));
  dirs.push(dataDir);
  const started = await createServer({
    dataDir,
    port: 0,
    initialFlow,
    fileRoots: [tmpdir()],
    statusIntervalMs: 60_000,
    ...(tls === undefined ? {} : { tls }),
    siteToSite: { tokens, ...(transactionTtlMs === undefined ? {} : { transactionTtlMs }) },
  });
  open.push(started);
  return started;
}

/** A core, optionally behind a chaos proxy, and an edge pointed at it. */
async function pair(
  core: CoreOptions = {},
  edge: EdgeOptions = {},
  faults: Fault[] = [],
  prepare: (core: SluiceServer) => Promise<unknown> = async () => undefined,
) {
  const coreServer = await server(coreFlow(core), core.transactionTtlMs);
  await prepare(coreServer);
  const proxy = new ChaosProxy(coreServer.port);
  proxies.push(proxy);
  proxy.faults = faults;
  await proxy.start();
  const edgeServer = await server(edgeFlow(`http://127.0.0.1:${proxy.port}/nifi`, edge));
  return { core: coreServer, edge: edgeServer, proxy };
}

afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
  for (const s of open.splice(0).reverse()) await s.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function queued(s: SluiceServer, connectionId: string): number {
  return s.engine.connection(connectionId)?.queue.size().count ?? -1;
}

/** The FlowFiles queued in a connection: uuid -> { content, attributes }. */
function contents(
  s: SluiceServer,
  connectionId: string,
): Map<string, { content: string; attributes: ReadonlyMap<string, string> }> {
  const out = new Map<string, { content: string; attributes: ReadonlyMap<string, string> }>();
  for (const { flowFile } of s.engine.listQueue(connectionId, 0, 100_000)) {
    const content = flowFile.claim === null ? '' : s.engine.content.read(flowFile.claim, 0, flowFile.size).toString('utf8');
    out.set(flowFile.uuid, { content, attributes: flowFile.attributes });
  }
  return out;
}

async function enqueue(s: SluiceServer, connectionId: string, count: number, prefix: string): Promise<string[]> {
  const uuids: string[] = [];
  for (let i = 0; i < count; i++) {
    const flowFile = await s.engine.enqueue(connectionId, `${prefix}-${i}`, { index: String(i), origin: prefix });
    uuids.push(flowFile.uuid);
  }
  return uuids;
}

async function events(s: SluiceServer, uuid: string): Promise<string[]> {
  await s.engine.provenance.waitForIndex();
  return s.engine.provenance
    .search({ flowFileUuid: uuid })
    .map((e) => e.eventType)
    .sort();
}

describe('Site-to-Site between two instances', () => {
  it.each([false, true])('pushes FlowFiles from an edge RPG to the core input port (compression %s)', async (compression) => {
    const { core, edge } = await pair({}, { compression, pull: false });
    const uuids = await enqueue(edge, 'to-core', 200, 'push');
    await until(() => queued(core, 'received') === 200, 'all 200 FlowFiles at the core', 20_000);
    expect(queued(edge, 'to-core')).toBe(0);
    const received = contents(core, 'received');
    expect([...received.keys()].sort()).toEqual([...uuids].sort());
    for (const [i, uuid] of uuids.entries()) {
      const one = received.get(uuid);
      expect(one?.content).toBe(`push-${i}`);
      expect(one?.attributes.get('index')).toBe(String(i));
      expect(one?.attributes.get('origin')).toBe('push');
    }
    const uuid = uuids[7] ?? '';
    expect(await events(edge, uuid)).toEqual(expect.arrayContaining(['SEND']));
    expect(await events(core, uuid)).toEqual(expect.arrayContaining(['RECEIVE']));
    const receive = core.engine.provenance.search({ flowFileUuid: uuid, eventType: 'RECEIVE' })[0];
    expect(receive?.transitUri).toMatch(/\/nifi-api\/data-transfer\/input-ports\/from-edge\/transactions\/.+\/flow-files$/);
    expect(receive?.sourceSystemFlowFileId).toBe(`urn:nifi:${uuid}`);
    // A lineage search by the uuid works on both sides.
    expect(edge.engine.provenance.lineage(uuid).nodes.length).toBeGreaterThan(0);
    expect(core.engine.provenance.lineage(uuid).nodes.some((n) => n.kind === 'event' && n.eventType === 'RECEIVE')).toBe(true);
  });

  it.each([false, true])('pulls FlowFiles from the core output port into the edge (compression %s)', async (compression) => {
    let uuids: string[] = [];
    const { core, edge } = await pair({}, { compression, push: false }, [], async (c) => {
      uuids = await enqueue(c, 'outbox', 150, 'pull');
    });
    await until(() => queued(edge, 'pulled') === 150, 'all 150 FlowFiles at the edge', 20_000);
    await until(() => queued(core, 'outbox') === 0, 'the core outbox emptied');
    const pulled = contents(edge, 'pulled');
    expect([...pulled.keys()].sort()).toEqual([...uuids].sort());
    expect(pulled.get(uuids[3] ?? '')?.content).toBe('pull-3');
    const uuid = uuids[3] ?? '';
    expect(await events(core, uuid)).toEqual(expect.arrayContaining(['SEND']));
    expect(await events(edge, uuid)).toEqual(expect.arrayContaining(['RECEIVE']));
  });
});

const CREATE = /\/transactions$/;
const FLOW_FILES = /\/flow-files$/;
const CONFIRM = /responseCode=12/;

/** Every uuid in `expected` is queued in the connection, and nothing else (duplicates aside). */
function expectAll(s: SluiceServer, connectionId: string, expected: readonly string[], prefix: string): void {
  const got = contents(s, connectionId);
  expect([...got.keys()].sort()).toEqual([...expected].sort());
  for (const one of got.values()) expect(one.content).toBe(`${prefix}-${one.attributes.get('index')}`);
}

describe('Site-to-Site between two instances with the connection cut at each protocol step', () => {
  const pushSteps: Array<[string, Fault]> = [
    ['create request', { method: 'POST', path: CREATE, occurrences: [1], phase: 'request-head', action: 'drop' }],
    ['create answer', { method: 'POST', path: CREATE, occurrences: [1], phase: 'response-head', action: 'drop' }],
    ['data, before it arrives', { method: 'POST', path: FLOW_FILES, occurrences: [1], phase: 'request-head', action: 'drop' }],
    [
      'data, half sent',
      { method: 'POST', path: FLOW_FILES, occurrences: [1], phase: 'request-body', action: 'drop', offset: 700 },
    ],
    ['checksum answer', { method: 'POST', path: FLOW_FILES, occurrences: [1], phase: 'response-head', action: 'drop' }],
    ['confirm request', { method: 'DELETE', path: CONFIRM, occurrences: [1], phase: 'request-head', action: 'drop' }],
    ['confirm answer', { method: 'DELETE', path: CONFIRM, occurrences: [1], phase: 'response-head', action: 'drop' }],
  ];

  it.each(pushSteps)('push survives a cut at the %s with zero loss', async (_step, fault) => {
    const { core, edge, proxy } = await pair({}, { pull: false, batchCount: 10 }, [fault]);
    const uuids = await enqueue(edge, 'to-core', 40, 'push');
    await until(() => queued(edge, 'to-core') === 0 && queued(core, 'received') >= 40, 'everything at the core', 20_000);
    expect(proxy.fired.length).toBe(1);
    expectAll(core, 'received', uuids, 'push');
    // Duplicates only where the core committed and its answer was lost (it remembers the
    // outcome and answers the retried confirm, so not even then).
    expect(queued(core, 'received')).toBe(40);
  });

  const pullSteps: Array<[string, Fault]> = [
    ['create request', { method: 'POST', path: CREATE, occurrences: [1], phase: 'request-head', action: 'drop' }],
    ['create answer', { method: 'POST', path: CREATE, occurrences: [1], phase: 'response-head', action: 'drop' }],
    ['data request', { method: 'GET', path: FLOW_FILES, occurrences: [1], phase: 'request-head', action: 'drop' }],
    ['data answer', { method: 'GET', path: FLOW_FILES, occurrences: [1], phase: 'response-head', action: 'drop' }],
    [
      'data, half received',
      { method: 'GET', path: FLOW_FILES, occurrences: [1], phase: 'response-body', action: 'drop', offset: 700 },
    ],
    ['confirm request', { method: 'DELETE', path: CONFIRM, occurrences: [1], phase: 'request-head', action: 'drop' }],
    ['confirm answer', { method: 'DELETE', path: CONFIRM, occurrences: [1], phase: 'response-head', action: 'drop' }],
  ];

  it.each(pullSteps)('pull survives a cut at the %s with zero loss', async (_step, fault) => {
    let uuids: string[] = [];
    // Queued before the edge starts, so that the first pull carries data.
    const { core, edge, proxy } = await pair({}, { push: false, batchCount: 10 }, [fault], async (c) => {
      uuids = await enqueue(c, 'outbox', 40, 'pull');
    });
    await until(() => queued(core, 'outbox') === 0 && queued(edge, 'pulled') >= 40, 'everything at the edge', 20_000);
    expect(proxy.fired.length).toBe(1);
    expectAll(edge, 'pulled', uuids, 'pull');
  });

  it('a corrupted byte gives BAD_CHECKSUM, the data is discarded, and the retry delivers it', async () => {
    const fault: Fault = {
      method: 'POST',
      path: FLOW_FILES,
      occurrences: [1],
      phase: 'request-body',
      action: 'corrupt',
      offset: 2000,
    };
    const { core, edge, proxy } = await pair({}, { pull: false }, [fault]);
    const uuids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const flowFile = await edge.engine.enqueue('to-core', `push-${i}`.padEnd(4096, '.'), { index: String(i) });
      uuids.push(flowFile.uuid);
    }
    await until(() => queued(edge, 'to-core') === 0 && queued(core, 'received') >= 5, 'everything at the core', 20_000);
    expect(proxy.fired).toEqual([expect.stringMatching(/^POST .*\/flow-files -> corrupted$/)]);
    expect(proxy.log.some((line) => /^DELETE .*responseCode=19/.test(line))).toBe(true);
    const got = contents(core, 'received');
    expect([...got.keys()].sort()).toEqual([...uuids].sort());
    for (const one of got.values()) expect(one.content).toBe(`push-${one.attributes.get('index')}`.padEnd(4096, '.'));
  });

  it('a full destination makes the edge yield and retry; nothing is lost', async () => {
    const { core, edge } = await pair({ backPressure: 10 }, { pull: false, batchCount: 5 });
    const uuids = await enqueue(edge, 'to-core', 30, 'push');
    await until(() => queued(core, 'received') >= 10, 'the core queue full');
    // The core refuses more while full: the edge keeps the rest.
    await new Promise((r) => setTimeout(r, 500));
    const first = queued(core, 'received');
    expect(first).toBeLessThan(30);
    expect(queued(edge, 'to-core')).toBe(30 - first);
    const seen = new Set(contents(core, 'received').keys());
    let drained = await core.engine.emptyQueue('received');
    while (seen.size < 30) {
      await until(() => queued(core, 'received') > 0, 'more data after the core drained');
      for (const uuid of contents(core, 'received').keys()) seen.add(uuid);
      drained += await core.engine.emptyQueue('received');
    }
    expect([...seen].sort()).toEqual([...uuids].sort());
    expect(drained).toBe(30);
    expect(queued(edge, 'to-core')).toBe(0);
  });

  it('a stale transaction expires and its data is discarded', async () => {
    const core = await server(coreFlow(), 1000);
    const client = new SiteToSiteClient({ url: core.url, token: TOKEN, keepAliveIntervalMs: false });
    try {
      const transaction = await client.createSendTransaction('from-edge');
      const summary = await transaction.send([
        { attributes: new Map([['filename', 'stale']]), size: 5, content: Buffer.from('stale') },
      ]);
      expect(summary.flowFiles).toBe(1);
      expect(core.siteToSite.transactions()).toHaveLength(1);
      await until(() => core.siteToSite.transactions().length === 0, 'the transaction to expire', 5000);
      await expect(transaction.confirm()).rejects.toThrow(TransactionNotFoundError);
      expect(queued(core, 'received')).toBe(0);
      await core.engine.provenance.waitForIndex();
      expect(core.engine.provenance.search({ eventType: 'RECEIVE' })).toEqual([]);
    } finally {
      client.close();
    }
  });
});

describe('Site-to-Site access', () => {
  it('admits clients by token and per-port allow-list, separately from editor logins', async () => {
    const other = 'other-token-0123456789abcdef';
    const core = await server(coreFlow(), undefined, { edge: TOKEN, other });
    const packet = () => [{ attributes: new Map([['filename', 'x']]), size: 1, content: Buffer.from('x') }];
    const clients: SiteToSiteClient[] = [];
    const client = (token?: string) => {
      const made = new SiteToSiteClient({ url: core.url, usePeers: false, ...(token === undefined ? {} : { token }) });
      clients.push(made);
      return made;
    };
    try {
      // No identity, or an unknown token: 401 before anything else.
      await expect(client().details()).rejects.toThrow(UnauthorizedError);
      await expect(client('not-a-known-token-at-all').send('from-edge', packet())).rejects.toThrow(UnauthorizedError);
      // A known identity the port does not list: the port is invisible and refuses it.
      const details = await client(other).details();
      expect(details.inputPorts).toEqual([]);
      await expect(client(other).send('from-edge', packet())).rejects.toThrow(ForbiddenError);
      // The listed identity sees and uses it; an editor session cookie is neither needed nor enough.
      expect((await client(TOKEN).details()).inputPorts.map((p) => p.name)).toEqual(['from-edge']);
      const sent = await client(TOKEN).send('from-edge', packet());
      expect(sent.flowFiles).toBe(1);
      await until(() => queued(core, 'received') === 1, 'the FlowFile at the core');
      const login = await fetch(`${core.url}/nifi-api/site-to-site`, { headers: { cookie: 'sluice_session=whatever' } });
      expect(login.status).toBe(401);
      // The REST API is not opened by a Site-to-Site token.
      const api = await fetch(`${core.url}/api/v1/flow`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(api.status).toBe(401);
    } finally {
      for (const c of clients) c.close();
    }
  });
});

/** A CA, a server certificate for 127.0.0.1 and a client certificate for CN=<client>, made with openssl. */
function certificates(client: string) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-s2s-tls-'));
  dirs.push(dir);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=test-ca');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const [name, subject, ext] of [
    ['server', '/CN=127.0.0.1', ['-extfile', 'san.ext']],
    ['client', `/CN=${client}`, []],
  ] as const) {
    ssl('req', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      ...ext,
    );
  }
  const read = (name: string) => readFileSync(join(dir, name));
  return {
    dir,
    ca: read('ca.pem'),
    server: { key: read('server.key'), cert: read('server.pem') },
    client: { key: read('client.key'), cert: read('client.pem') },
  };
}

describe('Remote Process Group token', () => {
  it('is masked for editors, encrypted at rest and left out of exports', async () => {
    const core = await server(coreFlow());
    // Here the token is a literal in the document; the edge of the other tests reads it from a sensitive parameter.
    const document = edgeFlow(`${core.url}/nifi`, { pull: false });
    const edge = await server({
      ...document,
      parameterContexts: [],
      rootGroup: {
        ...document.rootGroup,
        parameterContextId: undefined,
        remoteProcessGroups: (document.rootGroup.remoteProcessGroups ?? []).map((g) => ({ ...g, accessToken: TOKEN })),
      },
    });
    await enqueue(edge, 'to-core', 3, 'secret');
    await until(() => queued(core, 'received') === 3, 'the push to work with the token');
    const login = edge.initialCredentials;
    if (login === undefined) throw new Error('expected a generated login');
    const admin = await Client.login(edge.url, login.username, login.password);
    const flow = await admin.get<{ flow: { rootGroup: { remoteProcessGroups: { accessToken?: string }[] } } }>('/flow');
    expect(flow.body.flow.rootGroup.remoteProcessGroups[0]?.accessToken).toBe(SENSITIVE_VALUE_SET);
    const exported = await admin.get('/flow/export');
    expect(exported.status).toBe(200);
    expect(exported.text).toContain('remoteProcessGroups');
    expect(exported.text).not.toContain(TOKEN);
    expect(readFileSync(join(edge.engine.options.dataDir, 'flow.json'), 'utf8')).not.toContain(TOKEN);
  });
});

describe('Site-to-Site over mutual TLS', () => {
  it('a client certificate is the identity the port allow-list names', async () => {
    const pki = certificates('edge-tls');
    const core = await server(coreFlow({ allowed: ['CN=edge-tls'] }), undefined, {}, { ...pki.server, ca: pki.ca });
    expect(core.url).toMatch(/^https:/);
    const withCertificate = new SiteToSiteClient({ url: core.url, usePeers: false, tls: { ca: pki.ca, ...pki.client } });
    const without = new SiteToSiteClient({ url: core.url, usePeers: false, tls: { ca: pki.ca } });
    try {
      const details = await withCertificate.details();
      expect(details.siteToSiteSecure).toBe(true);
      expect(details.inputPorts.map((p) => p.name)).toEqual(['from-edge']);
      const packet = [{ attributes: new Map([['filename', 'tls']]), size: 3, content: Buffer.from('tls') }];
      expect((await withCertificate.send('from-edge', packet)).flowFiles).toBe(1);
      await until(() => queued(core, 'received') === 1, 'the FlowFile at the core');
      await expect(without.details()).rejects.toThrow(UnauthorizedError);
    } finally {
      withCertificate.close();
      without.close();
    }
  });
});

describe('A Remote Process Group over mutual TLS', () => {
  it('pushes with the client certificate of its SSL context service, which is its identity at the remote', async () => {
    const pki = certificates('edge-rpg');
    const core = await server(coreFlow({ allowed: ['CN=edge-rpg'] }), undefined, {}, { ...pki.server, ca: pki.ca });
    const document = edgeFlow(`${core.url}/nifi`, { pull: false });
    const withService = (service: string): FlowDocumentInput => ({
      ...document,
      rootGroup: {
        ...document.rootGroup,
        controllerServices: [
          {
            id: 'tls',
            name: 'Edge certificate',
            type: 'StandardSSLContextService',
            properties: {
              certificateFile: join(pki.dir, 'client.pem'),
              keyFile: join(pki.dir, 'client.key'),
              caFile: join(pki.dir, 'ca.pem'),
            },
            state: 'ENABLED' as const,
          },
          {
            id: 'trust-only',
            name: 'CA only',
            type: 'StandardSSLContextService',
            properties: { caFile: join(pki.dir, 'ca.pem') },
            state: 'ENABLED' as const,
          },
        ],
        // No token: the certificate alone identifies the edge.
        remoteProcessGroups: (document.rootGroup.remoteProcessGroups ?? []).map(({ accessToken: _, ...g }) => ({
          ...g,
          sslContextService: service,
        })),
      },
    });
    const edge = await server(withService('tls'));
    const sent = await enqueue(edge, 'to-core', 5, 'over mutual TLS');
    await until(() => queued(core, 'received') === 5 && queued(edge, 'to-core') === 0, 'the push over mutual TLS');
    expect([...contents(core, 'received').keys()].sort()).toEqual([...sent].sort());

    // Trusting the core without presenting a certificate: the core does not know the edge, nothing
    // leaves, and the port says why.
    await edge.engine.applyFlow(withService('trust-only'));
    await enqueue(edge, 'to-core', 2, 'no certificate');
    await until(
      () =>
        edge.engine.bulletins.list().some((b) => b.componentId === 'core-in' && /401|identif|certificate|token/i.test(b.message)),
      'a bulletin saying the remote refused the edge',
    );
    expect(queued(edge, 'to-core')).toBe(2);
    expect(queued(core, 'received')).toBe(5);
  });

  it('a controller service that a Remote Process Group uses cannot be deleted', async () => {
    const core = await server(coreFlow());
    const document = edgeFlow(`${core.url}/nifi`, { pull: false, push: false });
    const edge = await server({
      ...document,
      rootGroup: {
        ...document.rootGroup,
        controllerServices: [{ id: 'tls', name: 'Edge TLS', type: 'StandardSSLContextService', state: 'DISABLED' }],
        remoteProcessGroups: (document.rootGroup.remoteProcessGroups ?? []).map((g) => ({ ...g, sslContextService: 'tls' })),
      },
    });
    const login = edge.initialCredentials;
    if (login === undefined) throw new Error('expected a generated login');
    const admin = await Client.login(edge.url, login.username, login.password);
    const flow = await admin.get<{ revisions: Record<string, number> }>('/flow');
    const refused = await admin.delete<{ error: string }>(`/controller-services/tls?revision=${flow.body.revisions.tls ?? 0}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('controller service "Edge TLS" is used by "core"');
  });
});

describe('Site-to-Site to its own instance', () => {
  it('a Remote Process Group pointed at its own input port gives the received copies new uuids', async () => {
    const core = await server(coreFlow());
    const edge = edgeFlow(`${core.url}/nifi`, { pull: false });
    const own = coreFlow();
    await core.engine.applyFlow({
      ...own,
      parameterContexts: edge.parameterContexts,
      rootGroup: {
        ...own.rootGroup,
        parameterContextId: edge.rootGroup.parameterContextId,
        processors: [...(own.rootGroup.processors ?? []), ...(edge.rootGroup.processors ?? [])],
        remoteProcessGroups: edge.rootGroup.remoteProcessGroups,
        connections: [
          ...(own.rootGroup.connections ?? []),
          ...(edge.rootGroup.connections ?? []).filter((c) => c.id === 'to-core'),
        ],
      },
    });
    const sent = await enqueue(core, 'to-core', 20, 'loop');
    await until(() => queued(core, 'received') === 20 && queued(core, 'to-core') === 0, 'the loop to deliver');
    const received = contents(core, 'received');
    expect([...received.keys()].filter((uuid) => sent.includes(uuid))).toEqual([]);
    await core.engine.provenance.waitForIndex();
    const sources = core.engine.provenance.search({ eventType: 'RECEIVE' }).map((e) => e.sourceSystemFlowFileId);
    expect(sources.sort()).toEqual(sent.map((uuid) => `urn:nifi:${uuid}`).sort());
  });
});

describe('Remote Process Group settings', () => {
  it('a URL that is not http(s) is refused with the port and setting named', async () => {
    const edge = await server(coreFlow());
    const problems = edge.engine.validate(edgeFlow('ftp://core.example/nifi'));
    expect(problems.map((p) => `${p.componentName} ${p.property}: ${p.message}`)).toEqual([
      'from-edge targetUris: "ftp://core.example/nifi" is not an http or https URL',
      'to-edge targetUris: "ftp://core.example/nifi" is not an http or https URL',
    ]);
  });
});
