import type { Processor } from '@sluice/protocol';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { editorActions, type ProcessorChanges } from '../actions.ts';
import { errorMessage } from '../api.ts';
import { useEditor } from '../editor-context.ts';
import { allProcessors, parameterScope, parentOf, relationshipsOf, unconnected } from '../flow-model.ts';
import { useComponentStatus } from '../status-store.ts';
import { Dialog, ErrorLine, Tabs, TextField } from './Dialog.tsx';
import { PropertyEditor, propertyProblems, visibleDescriptors } from './PropertyEditor.tsx';

type Tab = 'settings' | 'scheduling' | 'properties' | 'relationships' | 'comments';
type Scheduling = Processor['scheduling'];

const BULLETIN_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
const DURATION = /^\s*\d+(\.\d+)?\s*[a-zA-Z]+\s*$/;

function diffProperties(before: Record<string, string | null>, after: Record<string, string | null>) {
  const changes: Record<string, string | null> = {};
  const previous: Record<string, string | null> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[key] ?? null;
    const b = after[key] ?? null;
    if (a !== b) {
      changes[key] = b;
      previous[key] = a;
    }
  }
  return { changes, previous };
}

/** The processor's configuration, rendered from its type descriptor. */
export function ConfigureProcessor({ id }: { id: string }) {
  const { t } = useTranslation();
  const ctx = useEditor();
  const { flow, types, canEdit, close, notify } = ctx;
  const processor = allProcessors(flow.flow.rootGroup).find((p) => p.id === id);
  const type = processor === undefined ? undefined : types.get(processor.type);
  const status = useComponentStatus(id);
  const [tab, setTab] = useState<Tab>('properties');
  const [name, setName] = useState(processor?.name ?? '');
  const [comments, setComments] = useState(processor?.comments ?? '');
  const [bulletinLevel, setBulletinLevel] = useState(processor?.bulletinLevel ?? 'WARN');
  const [scheduling, setScheduling] = useState<Scheduling | undefined>(processor?.scheduling);
  const [properties, setProperties] = useState<Record<string, string | null>>({ ...(processor?.properties ?? {}) });
  const [autoTerminate, setAutoTerminate] = useState<string[]>(processor?.autoTerminate ?? []);
  const [retryRelationships, setRetryRelationships] = useState<string[]>(processor?.retry?.relationships ?? []);
  const [retryCount, setRetryCount] = useState(processor?.retry?.count ?? 10);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  if (processor === undefined || scheduling === undefined) return null;
  const readOnly = !canEdit;
  const descriptors = type?.properties ?? [];
  const visible = visibleDescriptors(descriptors, properties);
  const dyn = type?.dynamicProperties;
  const group = parentOf(flow.flow.rootGroup, id);
  const problems = propertyProblems(descriptors, dyn, properties, parameterScope(flow.flow.parameterContexts, group));
  const schedulingInvalid =
    !DURATION.test(scheduling.runDuration) ||
    !DURATION.test(scheduling.penaltyDuration) ||
    !DURATION.test(scheduling.yieldDuration) ||
    (scheduling.strategy === 'timer' && !DURATION.test(scheduling.period));
  const nameInvalid = name.trim() === '';
  const draftProcessor: Processor = { ...processor, properties: Object.fromEntries(Object.entries(properties)) };
  const relationships = relationshipsOf(draftProcessor, type);
  const dangling = unconnected({ ...draftProcessor, autoTerminate }, type, group?.connections ?? []);

  const save = async () => {
    if (problems.size > 0 || schedulingInvalid || nameInvalid) {
      setError(t('configure.fixErrors'));
      return;
    }
    const changes: ProcessorChanges = {};
    const previous: ProcessorChanges = {};
    if (name !== processor.name) [changes.name, previous.name] = [name, processor.name];
    if (comments !== (processor.comments ?? '')) [changes.comments, previous.comments] = [comments, processor.comments ?? null];
    if (bulletinLevel !== processor.bulletinLevel)
      [changes.bulletinLevel, previous.bulletinLevel] = [bulletinLevel, processor.bulletinLevel];
    if (JSON.stringify(scheduling) !== JSON.stringify(processor.scheduling))
      [changes.scheduling, previous.scheduling] = [scheduling, processor.scheduling];
    const props = diffProperties(processor.properties, properties);
    if (Object.keys(props.changes).length > 0) [changes.properties, previous.properties] = [props.changes, props.previous];
    if ([...autoTerminate].sort().join() !== [...processor.autoTerminate].sort().join())
      [changes.autoTerminate, previous.autoTerminate] = [autoTerminate, processor.autoTerminate];
    const retry =
      retryRelationships.length === 0
        ? null
        : { ...(processor.retry ?? {}), relationships: retryRelationships, count: retryCount };
    if (JSON.stringify(retry) !== JSON.stringify(processor.retry ?? null))
      [changes.retry, previous.retry] = [retry, processor.retry ?? null];
    if (Object.keys(changes).length === 0) {
      close();
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await editorActions(ctx).updateProcessor(id, changes, previous);
      notify(t('configure.saved'));
      close();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const toggle = (list: string[], set: (v: string[]) => void, value: string) =>
    set(list.includes(value) ? list.filter((v) => v !== value) : [...list, value]);
  const setSched = <K extends keyof Scheduling>(key: K, value: Scheduling[K]) => setScheduling({ ...scheduling, [key]: value });

  return (
    <Dialog
      title={t('configure.heading', { name: processor.name })}
      testId="configure-dialog"
      wide
      footer={
        <>
          <ErrorLine error={error} testId="configure-error" />
          <button type="button" onClick={close}>
            {readOnly ? t('app.close') : t('app.cancel')}
          </button>
          {!readOnly && (
            <button
              type="button"
              className="primary"
              data-testid="configure-save"
              disabled={busy || problems.size > 0 || schedulingInvalid || nameInvalid}
              onClick={() => void save()}
            >
              {t('app.save')}
            </button>
          )}
        </>
      }
    >
      <Tabs<Tab>
        current={tab}
        onChange={setTab}
        tabs={[
          { id: 'settings', label: t('configure.settings'), invalid: nameInvalid },
          { id: 'scheduling', label: t('configure.scheduling'), invalid: schedulingInvalid },
          { id: 'properties', label: t('configure.properties'), invalid: problems.size > 0 },
          { id: 'relationships', label: t('configure.relationships'), invalid: dangling.length > 0 },
          { id: 'comments', label: t('configure.comments') },
        ]}
      />
      {(status?.validationErrors.length ?? 0) > 0 && (
        <div className="validation-box" data-testid="configure-validation">
          <strong>{t('configure.validation')}</strong>
          <ul>
            {status?.validationErrors.map((v) => (
              <li key={v}>{v}</li>
            ))}
          </ul>
        </div>
      )}
      {tab === 'settings' && (
        <div className="form-grid">
          <TextField
            id="cfg-name"
            label={t('configure.name')}
            testId="configure-name"
            disabled={readOnly}
            value={name}
            onChange={setName}
          />
          <span>{t('configure.type')}</span>
          <span>{processor.type}</span>
          <span>{t('configure.id')}</span>
          <code>{processor.id}</code>
          <label htmlFor="cfg-bulletin">{t('configure.bulletinLevel')}</label>
          <select
            id="cfg-bulletin"
            disabled={readOnly}
            value={bulletinLevel}
            onChange={(e) => setBulletinLevel(BULLETIN_LEVELS.find((l) => l === e.target.value) ?? 'WARN')}
          >
            {BULLETIN_LEVELS.map((l) => (
              <option key={l}>{l}</option>
            ))}
          </select>
          {type !== undefined && <p className="description span-2">{type.description}</p>}
        </div>
      )}
      {tab === 'scheduling' && (
        <div className="form-grid">
          <label htmlFor="cfg-strategy">{t('configure.strategy')}</label>
          <select
            id="cfg-strategy"
            data-testid="scheduling-strategy"
            disabled={readOnly}
            value={scheduling.strategy}
            onChange={(e) => setSched('strategy', e.target.value === 'cron' ? 'cron' : 'timer')}
          >
            <option value="timer">{t('configure.timer')}</option>
            <option value="cron">{t('configure.cron')}</option>
          </select>
          <TextField
            id="cfg-period"
            label={t('configure.period')}
            testId="scheduling-period"
            disabled={readOnly}
            value={scheduling.period}
            title={t('configure.periodHint')}
            onChange={(v) => setSched('period', v)}
          />
          <label htmlFor="cfg-tasks">{t('configure.concurrentTasks')}</label>
          <input
            id="cfg-tasks"
            type="number"
            min={1}
            max={64}
            disabled={readOnly}
            value={scheduling.concurrentTasks}
            onChange={(e) => setSched('concurrentTasks', Math.max(1, Math.min(64, Number(e.target.value) || 1)))}
          />
          <TextField
            id="cfg-run"
            label={t('configure.runDuration')}
            disabled={readOnly}
            value={scheduling.runDuration}
            onChange={(v) => setSched('runDuration', v)}
          />
          <TextField
            id="cfg-penalty"
            label={t('configure.penaltyDuration')}
            disabled={readOnly}
            value={scheduling.penaltyDuration}
            onChange={(v) => setSched('penaltyDuration', v)}
          />
          <TextField
            id="cfg-yield"
            label={t('configure.yieldDuration')}
            disabled={readOnly}
            value={scheduling.yieldDuration}
            onChange={(v) => setSched('yieldDuration', v)}
          />
        </div>
      )}
      {tab === 'properties' && (
        <PropertyEditor
          descriptors={visible}
          dynamic={dyn}
          values={properties}
          problems={problems}
          readOnly={readOnly}
          groupId={group?.id ?? ctx.groupId}
          onChange={setProperties}
        />
      )}
      {tab === 'relationships' && (
        <table className="relationships">
          <thead>
            <tr>
              <th>{t('configure.relationships')}</th>
              <th>{t('configure.autoTerminate')}</th>
              <th>{t('configure.retry')}</th>
            </tr>
          </thead>
          <tbody>
            {relationships.map((r) => (
              <tr key={r} data-testid={`relationship-${r}`}>
                <td>
                  <strong>{r}</strong>
                  <div className="description">{type?.relationships.find((x) => x.name === r)?.description}</div>
                  {dangling.includes(r) && <div className="field-error">{t('configure.relationshipUnconnected')}</div>}
                </td>
                <td>
                  <input
                    type="checkbox"
                    data-testid={`autoterminate-${r}`}
                    disabled={readOnly}
                    checked={autoTerminate.includes(r)}
                    onChange={() => toggle(autoTerminate, setAutoTerminate, r)}
                  />
                </td>
                <td>
                  <input
                    type="checkbox"
                    disabled={readOnly}
                    checked={retryRelationships.includes(r)}
                    onChange={() => toggle(retryRelationships, setRetryRelationships, r)}
                  />
                </td>
              </tr>
            ))}
          </tbody>
          {retryRelationships.length > 0 && (
            <tfoot>
              <tr>
                <td colSpan={2}>{t('configure.retryCount')}</td>
                <td>
                  <input
                    type="number"
                    min={0}
                    max={100}
                    disabled={readOnly}
                    value={retryCount}
                    onChange={(e) => setRetryCount(Math.max(0, Math.min(100, Number(e.target.value) || 0)))}
                  />
                </td>
              </tr>
            </tfoot>
          )}
        </table>
      )}
      {tab === 'comments' && (
        <textarea
          className="comments"
          data-testid="configure-comments"
          disabled={readOnly}
          rows={8}
          value={comments}
          onChange={(e) => setComments(e.target.value)}
        />
      )}
    </Dialog>
  );
}
