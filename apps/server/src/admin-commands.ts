import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describeProblem, Engine, errorText, type FlowDocument, parseFlowDocument } from '@sluice/engine';
import { passwordSchema, type Role, roleSchema, usernameSchema } from '@sluice/protocol';
import { indexFlow } from './flow/document.ts';
import { decryptFlow, encryptFlow } from './flow/flow-service.ts';
import { asNewGroup, exportDocument, mapImport } from './flow/import.ts';
import { SensitivePolicy, strip } from './flow/sensitive.ts';
import { ApiError } from './http/errors.ts';
import { standardRegistry } from './run-command.ts';
import { generatePassword } from './security/passwords.ts';
import { SensitiveCipher } from './security/sensitive-cipher.ts';
import { UserStore } from './security/user-store.ts';
import { FlowStore } from './store/flow-store.ts';

/** The pid of a live Sluice process using the data directory, if any. */
export function runningServer(dataDir: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(join(dataDir, 'sluice.lock'), 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (e) {
    return e instanceof Error && 'code' in e && e.code === 'EPERM' ? pid : undefined;
  }
}

/**
 * `sluice set-credentials`: sets a user's password (read from stdin with `passwordStdin`, else
 * generated and printed once) and optionally role; creates the user if needed. A running server
 * picks the change up at the next login.
 */
export async function setCredentials(options: {
  dataDir: string;
  username: string;
  role?: string | undefined;
  password?: string | undefined;
  write: (line: string) => void;
  /** Where the generated password goes (stdout). */
  print?: (text: string) => void;
}): Promise<number> {
  const username = usernameSchema.safeParse(options.username);
  if (!username.success) {
    options.write(`invalid username: ${username.error.issues[0]?.message ?? ''}`);
    return 2;
  }
  let role: Role | undefined;
  if (options.role !== undefined) {
    const parsed = roleSchema.safeParse(options.role);
    if (!parsed.success) {
      options.write(`--role must be viewer, operator or admin, not "${options.role}"`);
      return 2;
    }
    role = parsed.data;
  }
  const generated = options.password === undefined;
  const password = options.password ?? generatePassword();
  const checked = passwordSchema.safeParse(password);
  if (!checked.success) {
    options.write(`the password ${checked.error.issues[0]?.message ?? 'is invalid'}`);
    return 2;
  }
  const { store, generated: first } = await UserStore.open(resolve(options.dataDir));
  if (first !== undefined && first.username !== username.data) {
    options.write(
      `(a first user "${first.username}" was created too; set its password with sluice set-credentials --username ${first.username})`,
    );
  }
  try {
    const user = await store.set(username.data, { password, ...(role === undefined ? {} : { role }) });
    options.write(`credentials of "${user.username}" (${user.role}) stored in ${store.path}`);
  } catch (e) {
    options.write(errorText(e));
    return 1;
  }
  if (generated) (options.print ?? ((text) => process.stdout.write(text)))(`username: ${username.data}\npassword: ${password}\n`);
  return 0;
}

/** `sluice export`: the stored flow (or one group) as a flow document, sensitive values left out. */
export async function exportFlow(options: {
  dataDir: string;
  groupId?: string | undefined;
  output?: string | undefined;
  write: (line: string) => void;
  /** Where the document goes without `output` (stdout). */
  print?: (text: string) => void;
}): Promise<number> {
  const store = await FlowStore.open(resolve(options.dataDir));
  const stored = store.current;
  if (stored === undefined) {
    options.write(`there is no flow in ${resolve(options.dataDir)}`);
    return 1;
  }
  let document: FlowDocument;
  try {
    document = parseFlowDocument(stored.flow);
  } catch (e) {
    options.write(errorText(e));
    return 1;
  }
  const picked = exportDocument(document, options.groupId);
  if (picked === undefined) {
    options.write(`there is no process group "${options.groupId ?? ''}"`);
    return 1;
  }
  const policy = new SensitivePolicy(standardRegistry());
  // Belt and braces: anything still encrypted (a type this build does not know) is left out too.
  const text = `${JSON.stringify(
    policy.map(picked, strip),
    (_key, value: unknown) => (typeof value === 'string' && SensitiveCipher.isEncrypted(value) ? null : value),
    2,
  )}\n`;
  if (options.output === undefined) (options.print ?? ((t: string) => process.stdout.write(t)))(text);
  else {
    writeFileSync(options.output, text);
    options.write(`wrote ${options.output}`);
  }
  return 0;
}

/**
 * `sluice import <file>`: replaces the stored flow (or adds the document as a process group) while
 * the server is stopped; prints what could not be mapped. Stored as a new version.
 */
export async function importFlow(options: {
  dataDir: string;
  file: string;
  groupId?: string | undefined;
  keepRunStates: boolean;
  write: (line: string) => void;
}): Promise<number> {
  const dataDir = resolve(options.dataDir);
  const pid = runningServer(dataDir);
  if (pid !== undefined) {
    options.write(
      `a Sluice server (pid ${pid}) uses ${dataDir}: stop it first, or import through the API (POST /api/v1/flow/import)`,
    );
    return 1;
  }
  let input: unknown;
  try {
    input = JSON.parse(readFileSync(options.file, 'utf8'));
  } catch (e) {
    options.write(`cannot read ${options.file}: ${errorText(e)}`);
    return 2;
  }
  const registry = standardRegistry();
  const policy = new SensitivePolicy(registry);
  // Importing into a data directory that does not exist yet prepares it, as a first start would.
  mkdirSync(dataDir, { recursive: true });
  const cipher = SensitiveCipher.open(dataDir);
  const store = await FlowStore.open(dataDir);
  let mapped: ReturnType<typeof mapImport>;
  try {
    mapped = mapImport(input, registry, policy, options.keepRunStates);
  } catch (e) {
    options.write(
      e instanceof ApiError ? [e.message, ...e.details.map((d) => `  - ${d.path ?? ''}: ${d.message}`)].join('\n') : errorText(e),
    );
    return 1;
  }
  let next: FlowDocument = mapped.document;
  const current = store.current === undefined ? undefined : decryptFlow(policy, cipher, parseFlowDocument(store.current.flow));
  if (options.groupId !== undefined) {
    if (current === undefined) {
      options.write('there is no stored flow to import into; import without --group');
      return 1;
    }
    const target = indexFlow(current).get(options.groupId);
    if (target?.kind !== 'process-group') {
      options.write(`there is no process group "${options.groupId}"`);
      return 1;
    }
    const { group, contexts } = asNewGroup(mapped.document, current, mapped.issues);
    target.entry.processGroups.push(group);
    current.parameterContexts.push(...contexts);
    next = current;
  }
  const scratch = mkdtempSync(join(tmpdir(), 'sluice-import-'));
  const engine = await Engine.open({ dataDir: scratch, registry, repositories: 'volatile', provenance: 'off' });
  try {
    const problems = engine.validate(next);
    if (problems.length > 0) {
      options.write(`the imported flow cannot run (${problems.length} problem${problems.length === 1 ? '' : 's'}):`);
      for (const problem of problems) options.write(`  - ${describeProblem(problem)}`);
      return 1;
    }
  } finally {
    await engine.shutdown();
    rmSync(scratch, { recursive: true, force: true });
  }
  const revisions: Record<string, number> = {};
  for (const id of indexFlow(next).keys()) revisions[id] = (store.current?.revisions[id] ?? 0) + 1;
  const version = await store.save({
    flow: encryptFlow(policy, cipher, next),
    revisions,
    savedBy: 'sluice import',
    summary: `imported ${options.file}${options.groupId === undefined ? '' : ` into ${options.groupId}`}`,
  });
  for (const issue of mapped.issues) options.write(`  ${issue.action}: ${issue.path}: ${issue.message}`);
  options.write(
    `imported ${options.file} as flow version ${version} (${mapped.issues.length} issue${mapped.issues.length === 1 ? '' : 's'})`,
  );
  return 0;
}
