import type { Parameter, ParameterContext } from '@sluice/protocol';
import { SENSITIVE_VALUE_SET } from '@sluice/protocol';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage } from '../api.ts';
import { useEditor } from '../editor-context.ts';
import { findGroup, groupsUsing } from '../flow-model.ts';
import { Dialog, ErrorLine } from './Dialog.tsx';

const PARAMETER_NAME = /^[A-Za-z0-9 ._-]+$/;

/** One row of the parameter editor; `stored` marks a parameter the server already has. */
interface Draft {
  readonly key: number;
  readonly name: string;
  readonly value: string | null;
  readonly sensitive: boolean;
  readonly description: string;
  readonly stored: boolean;
}

let nextKey = 1;

function draftOf(p: Parameter): Draft {
  return {
    key: nextKey++,
    name: p.name,
    value: p.value,
    sensitive: p.sensitive,
    description: p.description ?? '',
    stored: true,
  };
}

/** Why a list of parameters cannot be saved (catalog key and values), or undefined. */
export function parameterListProblem(drafts: readonly Pick<Draft, 'name'>[]): { key: string; name?: string } | undefined {
  const seen = new Set<string>();
  for (const d of drafts) {
    if (!PARAMETER_NAME.test(d.name)) return { key: 'parameters.badName', name: d.name };
    if (seen.has(d.name)) return { key: 'parameters.duplicate', name: d.name };
    seen.add(d.name);
  }
  return undefined;
}

/** The parameters of one context: name, value (sensitive ones masked, never shown), description. */
function ContextEditor({ context, onDone }: { context: ParameterContext; onDone: () => void }) {
  const { t } = useTranslation();
  const ctx = useEditor();
  const readOnly = !ctx.canEdit;
  const [name, setName] = useState(context.name);
  const [description, setDescription] = useState(context.description ?? '');
  const [drafts, setDrafts] = useState<Draft[]>(() => context.parameters.map(draftOf));
  const [error, setError] = useState<string | undefined>();
  const problem = name.trim() === '' ? { key: 'parameters.nameRequired' } : parameterListProblem(drafts);
  const change = (key: number, fields: Partial<Draft>) =>
    setDrafts((ds) => ds.map((d) => (d.key === key ? { ...d, ...fields } : d)));
  const save = async () => {
    try {
      await call('updateParameterContext', {
        params: { id: context.id },
        body: {
          revision: ctx.revision(context.id),
          component: {
            name: name.trim(),
            description: description === '' ? null : description,
            parameters: drafts.map((d) => ({
              name: d.name,
              value: d.value,
              sensitive: d.sensitive,
              ...(d.description === '' ? {} : { description: d.description }),
            })),
          },
        },
      });
      await ctx.refresh();
      onDone();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <section className="parameter-context-editor" data-testid="parameter-context-editor" data-name={context.name}>
      <h3>{t('parameters.editHeading', { name: context.name })}</h3>
      <div className="form-grid">
        <label htmlFor="pc-name">{t('parameters.contextName')}</label>
        <input
          id="pc-name"
          data-testid="parameter-context-name"
          disabled={readOnly}
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <label htmlFor="pc-description">{t('parameters.description')}</label>
        <input id="pc-description" disabled={readOnly} value={description} onChange={(e) => setDescription(e.target.value)} />
      </div>
      {drafts.length === 0 ? (
        <p className="hint">{t('parameters.noParameters')}</p>
      ) : (
        <table className="data-table">
          <thead>
            <tr>
              <th>{t('parameters.name')}</th>
              <th>{t('parameters.value')}</th>
              <th>{t('parameters.sensitive')}</th>
              <th>{t('parameters.description')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {drafts.map((d) => {
              const isSet = d.sensitive && d.value === SENSITIVE_VALUE_SET;
              return (
                <tr key={d.key} data-testid="parameter-row" data-name={d.name} data-sensitive={d.sensitive ? 'yes' : 'no'}>
                  <td>
                    <input
                      data-testid="parameter-name"
                      aria-label={t('parameters.name')}
                      disabled={readOnly || d.stored}
                      value={d.name}
                      onChange={(e) => change(d.key, { name: e.target.value })}
                    />
                  </td>
                  <td>
                    {d.sensitive ? (
                      <input
                        type="password"
                        autoComplete="new-password"
                        data-testid="parameter-value"
                        aria-label={t('parameters.value')}
                        disabled={readOnly}
                        placeholder={isSet ? t('configure.sensitiveSet') : ''}
                        value={isSet ? '' : (d.value ?? '')}
                        onChange={(e) =>
                          change(d.key, {
                            value: e.target.value === '' ? (d.stored ? SENSITIVE_VALUE_SET : null) : e.target.value,
                          })
                        }
                      />
                    ) : (
                      <input
                        data-testid="parameter-value"
                        aria-label={t('parameters.value')}
                        disabled={readOnly}
                        spellCheck={false}
                        value={d.value ?? ''}
                        onChange={(e) => change(d.key, { value: e.target.value === '' ? null : e.target.value })}
                      />
                    )}
                  </td>
                  <td>
                    <input
                      type="checkbox"
                      data-testid="parameter-sensitive"
                      aria-label={t('parameters.sensitive')}
                      // Sensitivity is fixed once stored (as in NiFi): a secret never turns into plain text.
                      disabled={readOnly || d.stored}
                      checked={d.sensitive}
                      onChange={(e) => change(d.key, { sensitive: e.target.checked, value: null })}
                    />
                  </td>
                  <td>
                    <input
                      aria-label={t('parameters.description')}
                      disabled={readOnly}
                      value={d.description}
                      onChange={(e) => change(d.key, { description: e.target.value })}
                    />
                  </td>
                  <td>
                    {!readOnly && (
                      <button
                        type="button"
                        data-testid="parameter-remove"
                        onClick={() => setDrafts((ds) => ds.filter((x) => x.key !== d.key))}
                      >
                        {t('app.remove')}
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {problem !== undefined && (
        <p className="field-error" role="alert" data-testid="parameter-problem">
          {t(problem.key, { name: problem.name ?? '' })}
        </p>
      )}
      <ErrorLine error={error} testId="parameter-context-error" />
      <p className="actions">
        {!readOnly && (
          <button
            type="button"
            data-testid="parameter-add"
            onClick={() =>
              setDrafts((ds) => [
                ...ds,
                { key: nextKey++, name: '', value: null, sensitive: false, description: '', stored: false },
              ])
            }
          >
            {t('parameters.addParameter')}
          </button>
        )}
        <button type="button" onClick={onDone}>
          {readOnly ? t('app.close') : t('app.cancel')}
        </button>
        {!readOnly && (
          <button
            type="button"
            className="primary"
            data-testid="parameter-context-save"
            disabled={problem !== undefined}
            onClick={() => void save()}
          >
            {t('app.save')}
          </button>
        )}
      </p>
    </section>
  );
}

/**
 * Parameter contexts: list, create, edit, delete, and which one the current process group uses
 * (its components reference the parameters as `#{name}`).
 */
export function ParametersDialog() {
  const { t } = useTranslation();
  const ctx = useEditor();
  const root = ctx.flow.flow.rootGroup;
  const contexts = ctx.flow.flow.parameterContexts;
  const group = findGroup(root, ctx.groupId) ?? root;
  const [editing, setEditing] = useState<string | undefined>();
  const [newName, setNewName] = useState('');
  const [error, setError] = useState<string | undefined>();
  const act = async (work: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await work();
      await ctx.refresh();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  const create = () =>
    act(async () => {
      const created = await call('createParameterContext', { body: { name: newName.trim() } });
      setNewName('');
      setEditing(created.id);
    });
  const assign = (contextId: string) =>
    act(() =>
      call('updateGroup', {
        params: { id: group.id },
        body: { revision: ctx.revision(group.id), component: { parameterContextId: contextId === '' ? null : contextId } },
      }),
    );
  const current = contexts.find((c) => c.id === editing);
  return (
    <Dialog
      title={t('parameters.heading')}
      testId="parameters-dialog"
      wide
      footer={<ErrorLine error={error} testId="parameters-error" />}
    >
      <p>
        <label>
          {t('parameters.groupUses', { group: group.name })}{' '}
          <select
            data-testid="group-parameter-context"
            disabled={!ctx.canEdit}
            value={group.parameterContextId ?? ''}
            onChange={(e) => void assign(e.target.value)}
          >
            <option value="">{t('app.none')}</option>
            {contexts.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
      </p>
      <p className="hint">{t('parameters.hint')}</p>
      {contexts.length === 0 ? (
        <p className="hint">{t('parameters.empty')}</p>
      ) : (
        <table className="data-table">
          <thead>
            <tr>
              <th>{t('parameters.contextName')}</th>
              <th>{t('parameters.count')}</th>
              <th>{t('parameters.usedBy')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {contexts.map((c) => {
              const users = groupsUsing(root, c.id);
              return (
                <tr key={c.id} data-testid="parameter-context-row" data-name={c.name}>
                  <td>{c.name}</td>
                  <td>{c.parameters.length}</td>
                  <td>{users.map((g) => g.name).join(', ')}</td>
                  <td className="actions">
                    <button type="button" data-testid="parameter-context-edit" onClick={() => setEditing(c.id)}>
                      {ctx.canEdit ? t('parameters.edit') : t('parameters.view')}
                    </button>
                    {ctx.canEdit && (
                      <button
                        type="button"
                        data-testid="parameter-context-delete"
                        disabled={users.length > 0}
                        title={users.length > 0 ? t('parameters.inUse') : undefined}
                        onClick={() =>
                          void act(async () => {
                            await call('deleteParameterContext', {
                              params: { id: c.id },
                              query: { revision: ctx.revision(c.id) },
                            });
                            if (editing === c.id) setEditing(undefined);
                          })
                        }
                      >
                        {t('services.delete')}
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {ctx.canEdit && (
        <p>
          <input
            data-testid="parameter-context-new-name"
            aria-label={t('parameters.newContext')}
            placeholder={t('parameters.newContext')}
            value={newName}
            onChange={(e) => setNewName(e.target.value)}
          />{' '}
          <button
            type="button"
            data-testid="parameter-context-create"
            disabled={newName.trim() === ''}
            onClick={() => void create()}
          >
            {t('parameters.create')}
          </button>
        </p>
      )}
      {current !== undefined && <ContextEditor key={current.id} context={current} onDone={() => setEditing(undefined)} />}
    </Dialog>
  );
}
