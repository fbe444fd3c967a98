import type { RemotePort, RemoteProcessGroup } from '@sluice/protocol';
import { SENSITIVE_VALUE_SET } from '@sluice/protocol';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { editorActions, type RemoteGroupChanges } from '../actions.ts';
import { errorMessage } from '../api.ts';
import { useEditor } from '../editor-context.ts';
import { parentOf } from '../flow-model.ts';
import { Dialog, ErrorLine } from './Dialog.tsx';
import { ServicePicker } from './PropertyEditor.tsx';

/** The API string of SSL context services (StandardSSLContextService provides it). */
const SSL_CONTEXT_API = 'ssl-context';

const DURATION = /^\s*\d+(\.\d+)?\s*[a-zA-Z]+\s*$/;
const DATA_SIZE = /^\s*\d+(\.\d+)?\s*[a-zA-Z]+\s*$/;

type Direction = 'input' | 'output';

/** One remote port row; `id` is set for ports the server already has. */
interface PortDraft {
  readonly key: number;
  readonly id?: string | undefined;
  readonly name: string;
  readonly useCompression: boolean;
  readonly batchCount: number;
  readonly batchSize: string;
  readonly batchDuration: string;
  readonly concurrentTasks: number;
}

let nextKey = 1;

function draftOf(p: RemotePort): PortDraft {
  return {
    key: nextKey++,
    id: p.id,
    name: p.name,
    useCompression: p.useCompression,
    batchCount: p.batchCount,
    batchSize: p.batchSize,
    batchDuration: p.batchDuration,
    concurrentTasks: p.concurrentTasks,
  };
}

function bodyOf(d: PortDraft) {
  return {
    ...(d.id === undefined ? {} : { id: d.id }),
    name: d.name.trim(),
    useCompression: d.useCompression,
    batchCount: d.batchCount,
    batchSize: d.batchSize.trim(),
    batchDuration: d.batchDuration.trim(),
    concurrentTasks: d.concurrentTasks,
  };
}

/** Why the settings cannot be saved (a catalog key), or undefined. */
export function remoteSettingsProblem(settings: {
  targetUris: string;
  communicationsTimeout: string;
  yieldDuration: string;
  ports: readonly PortDraft[];
}): string | undefined {
  if (settings.targetUris.trim() === '') return 'remote.errors.urls';
  if (!DURATION.test(settings.communicationsTimeout) || !DURATION.test(settings.yieldDuration)) return 'remote.errors.duration';
  for (const p of settings.ports) {
    if (p.name.trim() === '') return 'remote.errors.portName';
    if (!Number.isInteger(p.batchCount) || p.batchCount < 0) return 'remote.errors.batchCount';
    if (!DATA_SIZE.test(p.batchSize)) return 'remote.errors.batchSize';
    if (!DURATION.test(p.batchDuration)) return 'remote.errors.duration';
    if (!Number.isInteger(p.concurrentTasks) || p.concurrentTasks < 1 || p.concurrentTasks > 64)
      return 'remote.errors.concurrentTasks';
  }
  return undefined;
}

function PortTable({
  direction,
  ports,
  readOnly,
  onChange,
}: {
  direction: Direction;
  ports: readonly PortDraft[];
  readOnly: boolean;
  onChange: (ports: PortDraft[]) => void;
}) {
  const { t } = useTranslation();
  const [newName, setNewName] = useState('');
  const change = (key: number, fields: Partial<PortDraft>) =>
    onChange(ports.map((p) => (p.key === key ? { ...p, ...fields } : p)));
  return (
    <section data-testid={`remote-${direction}-ports`}>
      <h3>{t(direction === 'input' ? 'remote.inputPorts' : 'remote.outputPorts')}</h3>
      <p className="hint">{t(direction === 'input' ? 'remote.inputHint' : 'remote.outputHint')}</p>
      {ports.length > 0 && (
        <table className="data-table">
          <thead>
            <tr>
              <th>{t('remote.portName')}</th>
              <th>{t('remote.compression')}</th>
              <th>{t('remote.batchCount')}</th>
              <th>{t('remote.batchSize')}</th>
              <th>{t('remote.batchDuration')}</th>
              <th>{t('remote.concurrentTasks')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {ports.map((p) => (
              <tr key={p.key} data-testid="remote-port-row" data-name={p.name}>
                <td>
                  <input
                    aria-label={t('remote.portName')}
                    data-testid="remote-port-name"
                    disabled={readOnly}
                    value={p.name}
                    onChange={(e) => change(p.key, { name: e.target.value })}
                  />
                </td>
                <td>
                  <input
                    type="checkbox"
                    aria-label={t('remote.compression')}
                    data-testid="remote-port-compression"
                    disabled={readOnly}
                    checked={p.useCompression}
                    onChange={(e) => change(p.key, { useCompression: e.target.checked })}
                  />
                </td>
                <td>
                  <input
                    type="number"
                    min={0}
                    aria-label={t('remote.batchCount')}
                    data-testid="remote-port-batch-count"
                    disabled={readOnly}
                    value={p.batchCount}
                    onChange={(e) => change(p.key, { batchCount: Number(e.target.value) })}
                  />
                </td>
                <td>
                  <input
                    aria-label={t('remote.batchSize')}
                    data-testid="remote-port-batch-size"
                    disabled={readOnly}
                    value={p.batchSize}
                    onChange={(e) => change(p.key, { batchSize: e.target.value })}
                  />
                </td>
                <td>
                  <input
                    aria-label={t('remote.batchDuration')}
                    data-testid="remote-port-batch-duration"
                    disabled={readOnly}
                    value={p.batchDuration}
                    onChange={(e) => change(p.key, { batchDuration: e.target.value })}
                  />
                </td>
                <td>
                  <input
                    type="number"
                    min={1}
                    max={64}
                    aria-label={t('remote.concurrentTasks')}
                    disabled={readOnly}
                    value={p.concurrentTasks}
                    onChange={(e) => change(p.key, { concurrentTasks: Number(e.target.value) })}
                  />
                </td>
                <td>
                  {!readOnly && (
                    <button
                      type="button"
                      data-testid="remote-port-remove"
                      onClick={() => onChange(ports.filter((x) => x.key !== p.key))}
                    >
                      {t('app.remove')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {!readOnly && (
        <p>
          <input
            aria-label={t('remote.newPort')}
            placeholder={t('remote.newPort')}
            data-testid={`remote-${direction}-new`}
            value={newName}
            onChange={(e) => setNewName(e.target.value)}
          />{' '}
          <button
            type="button"
            data-testid={`remote-${direction}-add`}
            disabled={newName.trim() === '' || ports.some((p) => p.name === newName.trim())}
            onClick={() => {
              onChange([
                ...ports,
                {
                  key: nextKey++,
                  name: newName.trim(),
                  useCompression: false,
                  batchCount: 0,
                  batchSize: '0 B',
                  batchDuration: '0 sec',
                  concurrentTasks: 1,
                },
              ]);
              setNewName('');
            }}
          >
            {t('remote.addPort')}
          </button>
        </p>
      )}
    </section>
  );
}

/**
 * A Remote Process Group's settings: URLs, transport, token, timeouts, and its remote ports with
 * their compression and batch settings. Without `id` it creates one at `position`.
 */
export function RemoteGroupDialog({ id, position }: { id?: string; position?: { x: number; y: number } }) {
  const { t } = useTranslation();
  const ctx = useEditor();
  const remote: RemoteProcessGroup | undefined =
    id === undefined ? undefined : parentOf(ctx.flow.flow.rootGroup, id)?.remoteProcessGroups?.find((r) => r.id === id);
  const [name, setName] = useState(remote?.name ?? '');
  const [targetUris, setTargetUris] = useState(remote?.targetUris ?? '');
  const [token, setToken] = useState<string | null>(remote?.accessToken ?? null);
  const [sslService, setSslService] = useState<string | null>(remote?.sslContextService ?? null);
  const [communicationsTimeout, setCommunicationsTimeout] = useState(remote?.communicationsTimeout ?? '30 sec');
  const [yieldDuration, setYieldDuration] = useState(remote?.yieldDuration ?? '10 sec');
  const [inputs, setInputs] = useState<PortDraft[]>(() => (remote?.inputPorts ?? []).map(draftOf));
  const [outputs, setOutputs] = useState<PortDraft[]>(() => (remote?.outputPorts ?? []).map(draftOf));
  const [error, setError] = useState<string | undefined>();
  if (id !== undefined && remote === undefined) return null;
  const readOnly = !ctx.canEdit;
  const groupId = id === undefined ? ctx.groupId : (parentOf(ctx.flow.flow.rootGroup, id)?.id ?? ctx.groupId);
  const problem = remoteSettingsProblem({ targetUris, communicationsTimeout, yieldDuration, ports: [...inputs, ...outputs] });
  const tokenSet = token === SENSITIVE_VALUE_SET;

  const save = async () => {
    const actions = editorActions(ctx);
    try {
      if (remote === undefined) {
        const settings = {
          targetUris: targetUris.trim(),
          communicationsTimeout: communicationsTimeout.trim(),
          yieldDuration: yieldDuration.trim(),
          inputPorts: inputs.map(bodyOf),
          outputPorts: outputs.map(bodyOf),
          ...(name.trim() === '' ? {} : { name: name.trim() }),
          ...(token === null || token === '' ? {} : { accessToken: token }),
          ...(sslService === null ? {} : { sslContextService: sslService }),
        };
        await ctx.undo.serial(() => actions.add({ kind: 'remote-process-group', settings }, position ?? { x: 0, y: 0 }));
      } else {
        const changes: RemoteGroupChanges = {};
        const previous: RemoteGroupChanges = {};
        if (name.trim() !== remote.name && name.trim() !== '') [changes.name, previous.name] = [name.trim(), remote.name];
        if (targetUris.trim() !== remote.targetUris)
          [changes.targetUris, previous.targetUris] = [targetUris.trim(), remote.targetUris];
        if (communicationsTimeout.trim() !== remote.communicationsTimeout)
          [changes.communicationsTimeout, previous.communicationsTimeout] = [
            communicationsTimeout.trim(),
            remote.communicationsTimeout,
          ];
        if (yieldDuration.trim() !== remote.yieldDuration)
          [changes.yieldDuration, previous.yieldDuration] = [yieldDuration.trim(), remote.yieldDuration];
        // The stored token cannot be put back by an undo (it is never sent to the editor).
        if (token !== (remote.accessToken ?? null)) changes.accessToken = token === '' ? null : token;
        if (sslService !== (remote.sslContextService ?? null))
          [changes.sslContextService, previous.sslContextService] = [sslService, remote.sslContextService ?? null];
        const before = (ports: readonly RemotePort[]) => ports.map((p) => bodyOf(draftOf(p)));
        if (JSON.stringify(inputs.map(bodyOf)) !== JSON.stringify(before(remote.inputPorts)))
          [changes.inputPorts, previous.inputPorts] = [inputs.map(bodyOf), before(remote.inputPorts)];
        if (JSON.stringify(outputs.map(bodyOf)) !== JSON.stringify(before(remote.outputPorts)))
          [changes.outputPorts, previous.outputPorts] = [outputs.map(bodyOf), before(remote.outputPorts)];
        if (Object.keys(changes).length > 0) await ctx.undo.serial(() => actions.updateRemoteGroup(remote.id, changes, previous));
      }
      ctx.close();
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <Dialog
      title={remote === undefined ? t('remote.addHeading') : t('remote.heading', { name: remote.name })}
      testId="remote-dialog"
      wide
      footer={
        <>
          <ErrorLine error={error} testId="remote-error" />
          {problem !== undefined && (
            <span className="error" role="alert" data-testid="remote-problem">
              {t(problem)}
            </span>
          )}
          <button type="button" onClick={ctx.close}>
            {readOnly ? t('app.close') : t('app.cancel')}
          </button>
          {!readOnly && (
            <button
              type="button"
              className="primary"
              data-testid="remote-save"
              disabled={problem !== undefined}
              onClick={() => void save()}
            >
              {t('app.save')}
            </button>
          )}
        </>
      }
    >
      <p className="hint">{t('remote.hint')}</p>
      <div className="form-grid">
        <label htmlFor="rpg-name">{t('remote.name')}</label>
        <input
          id="rpg-name"
          data-testid="remote-name"
          disabled={readOnly}
          placeholder={t('remote.nameDefault')}
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <label htmlFor="rpg-urls">{t('remote.urls')}</label>
        <input
          id="rpg-urls"
          data-testid="remote-urls"
          disabled={readOnly}
          placeholder="http://core:8080/nifi"
          title={t('remote.urlsHint')}
          value={targetUris}
          onChange={(e) => setTargetUris(e.target.value)}
        />
        <label htmlFor="rpg-transport">{t('remote.transport')}</label>
        <select id="rpg-transport" data-testid="remote-transport" disabled={readOnly} value="HTTP" onChange={() => undefined}>
          <option value="HTTP">HTTP</option>
        </select>
        <label htmlFor="rpg-token">{t('remote.token')}</label>
        <span className="sensitive-input">
          <input
            id="rpg-token"
            type="password"
            autoComplete="new-password"
            data-testid="remote-token"
            disabled={readOnly}
            placeholder={tokenSet ? t('configure.sensitiveSet') : ''}
            title={t('remote.tokenHint')}
            value={tokenSet || token === null ? '' : token}
            onChange={(e) =>
              setToken(e.target.value === '' ? (remote?.accessToken === undefined ? null : SENSITIVE_VALUE_SET) : e.target.value)
            }
          />
          {tokenSet && !readOnly && (
            <button type="button" className="link" onClick={() => setToken(null)}>
              {t('configure.clearSensitive')}
            </button>
          )}
        </span>
        <label htmlFor="rpg-ssl" title={t('remote.sslContextServiceHint')}>
          {t('remote.sslContextService')}
        </label>
        <ServicePicker
          api={SSL_CONTEXT_API}
          value={sslService}
          disabled={readOnly}
          groupId={groupId}
          testId="remote-ssl-context"
          id="rpg-ssl"
          onChange={setSslService}
        />
        <label htmlFor="rpg-timeout">{t('remote.communicationsTimeout')}</label>
        <input
          id="rpg-timeout"
          data-testid="remote-timeout"
          disabled={readOnly}
          value={communicationsTimeout}
          onChange={(e) => setCommunicationsTimeout(e.target.value)}
        />
        <label htmlFor="rpg-yield">{t('remote.yieldDuration')}</label>
        <input
          id="rpg-yield"
          data-testid="remote-yield"
          disabled={readOnly}
          value={yieldDuration}
          onChange={(e) => setYieldDuration(e.target.value)}
        />
      </div>
      <PortTable direction="input" ports={inputs} readOnly={readOnly} onChange={setInputs} />
      <PortTable direction="output" ports={outputs} readOnly={readOnly} onChange={setOutputs} />
    </Dialog>
  );
}
