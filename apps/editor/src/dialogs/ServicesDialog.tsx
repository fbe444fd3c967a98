import type { ControllerService } from '@sluice/protocol';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage } from '../api.ts';
import { useEditor } from '../editor-context.ts';
import { groupPath, parameterScope, parentOf } from '../flow-model.ts';
import { useServiceStatus } from '../status-store.ts';
import { Dialog, ErrorLine, TextField } from './Dialog.tsx';
import { PropertyEditor, propertyProblems, visibleDescriptors } from './PropertyEditor.tsx';

function ServiceRow({
  service,
  groupName,
  onError,
}: {
  service: ControllerService;
  groupName: string;
  onError: (e: string) => void;
}) {
  const { t } = useTranslation();
  const ctx = useEditor();
  const status = useServiceStatus(service.id);
  const state = status?.state ?? service.state;
  const act = async (work: () => Promise<unknown>) => {
    try {
      await work();
      await ctx.refresh();
    } catch (e) {
      onError(errorMessage(e));
    }
  };
  return (
    <tr data-testid="service-row" data-name={service.name} data-state={state}>
      <td>{service.name}</td>
      <td>{service.type}</td>
      <td>{groupName}</td>
      <td>
        {t(`services.state.${state}`)}
        {(status?.validationErrors.length ?? 0) > 0 && (
          <div className="field-error">{t('services.invalid', { errors: status?.validationErrors.join('; ') })}</div>
        )}
        {status?.lastError != null && <div className="field-error">{t('services.lastError', { error: status.lastError })}</div>}
      </td>
      <td className="actions">
        <button type="button" data-testid="service-configure" onClick={() => ctx.open({ kind: 'service', id: service.id })}>
          {t('services.configure')}
        </button>
        {ctx.canOperate && (
          <button
            type="button"
            data-testid="service-toggle"
            onClick={() =>
              void act(() =>
                call('setServiceRunStatus', {
                  params: { id: service.id },
                  body: { state: state === 'ENABLED' ? 'DISABLED' : 'ENABLED' },
                }),
              )
            }
          >
            {state === 'ENABLED' ? t('services.disable') : t('services.enable')}
          </button>
        )}
        {ctx.canEdit && (
          <button
            type="button"
            data-testid="service-delete"
            disabled={state === 'ENABLED'}
            onClick={() =>
              void act(() => call('deleteService', { params: { id: service.id }, query: { revision: ctx.revision(service.id) } }))
            }
          >
            {t('services.delete')}
          </button>
        )}
      </td>
    </tr>
  );
}

/** Controller services of the current group and the groups above it (their scope), with add. */
export function ServicesDialog() {
  const { t } = useTranslation();
  const ctx = useEditor();
  const [error, setError] = useState<string | undefined>();
  const path = groupPath(ctx.flow.flow.rootGroup, ctx.groupId);
  const rows = path.flatMap((g) => g.controllerServices.map((service) => ({ service, groupName: g.name })));
  const add = async (type: string) => {
    if (type === '') return;
    try {
      await call('createService', { params: { id: ctx.groupId }, body: { type, name: type } });
      await ctx.refresh();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <Dialog
      title={t('services.heading')}
      testId="services-dialog"
      wide
      footer={<ErrorLine error={error} testId="services-error" />}
    >
      {rows.length === 0 ? (
        <p className="hint">{t('services.empty')}</p>
      ) : (
        <table className="data-table">
          <thead>
            <tr>
              <th>{t('services.name')}</th>
              <th>{t('services.type')}</th>
              <th>{t('services.scope')}</th>
              <th>{t('services.status')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <ServiceRow key={r.service.id} service={r.service} groupName={r.groupName} onError={setError} />
            ))}
          </tbody>
        </table>
      )}
      {ctx.canEdit && (
        <p>
          <label>
            {t('services.add')}{' '}
            <select data-testid="service-add" value="" onChange={(e) => void add(e.target.value)}>
              <option value="">{t('services.choose')}</option>
              {ctx.serviceTypes.map((s) => (
                <option key={s.type} value={s.type}>
                  {s.type}
                </option>
              ))}
            </select>
          </label>
        </p>
      )}
    </Dialog>
  );
}

/** A controller service's name, properties (from its type's descriptor) and comments. */
export function ServiceDialog({ id }: { id: string }) {
  const { t } = useTranslation();
  const ctx = useEditor();
  const group = parentOf(ctx.flow.flow.rootGroup, id);
  const service = group?.controllerServices.find((s) => s.id === id);
  const type = ctx.serviceTypes.find((s) => s.type === service?.type);
  const status = useServiceStatus(id);
  const [name, setName] = useState(service?.name ?? '');
  const [comments, setComments] = useState(service?.comments ?? '');
  const [properties, setProperties] = useState<Record<string, string | null>>({ ...(service?.properties ?? {}) });
  const [error, setError] = useState<string | undefined>();
  if (service === undefined || group === undefined) return null;
  const enabled = (status?.state ?? service.state) === 'ENABLED';
  const readOnly = !ctx.canEdit || enabled;
  const descriptors = type?.properties ?? [];
  const problems = propertyProblems(descriptors, undefined, properties, parameterScope(ctx.flow.flow.parameterContexts, group));
  const save = async () => {
    const changed: Record<string, string | null> = {};
    for (const key of new Set([...Object.keys(service.properties), ...Object.keys(properties)])) {
      if ((service.properties[key] ?? null) !== (properties[key] ?? null)) changed[key] = properties[key] ?? null;
    }
    try {
      await call('updateService', {
        params: { id },
        body: {
          revision: ctx.revision(id),
          component: { name, comments: comments === '' ? null : comments, properties: changed },
        },
      });
      await ctx.refresh();
      ctx.close();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <Dialog
      title={t('services.configureHeading', { name: service.name })}
      testId="service-dialog"
      wide
      footer={
        <>
          <ErrorLine error={error} testId="service-error" />
          <button type="button" onClick={ctx.close}>
            {readOnly ? t('app.close') : t('app.cancel')}
          </button>
          {!readOnly && (
            <button
              type="button"
              className="primary"
              data-testid="service-save"
              disabled={problems.size > 0}
              onClick={() => void save()}
            >
              {t('app.save')}
            </button>
          )}
        </>
      }
    >
      {enabled && ctx.canEdit && <p className="hint">{t('services.disableFirst')}</p>}
      <div className="form-grid">
        <TextField
          id="svc-name"
          label={t('services.name')}
          testId="service-name"
          disabled={readOnly}
          value={name}
          onChange={setName}
        />
        <span>{t('services.type')}</span>
        <span>{service.type}</span>
      </div>
      {type !== undefined && <p className="description">{type.description}</p>}
      <PropertyEditor
        descriptors={visibleDescriptors(descriptors, properties)}
        dynamic={undefined}
        values={properties}
        problems={problems}
        readOnly={readOnly}
        groupId={group.id}
        onChange={setProperties}
      />
      <h3>{t('configure.comments')}</h3>
      <textarea
        className="comments"
        disabled={readOnly}
        rows={4}
        value={comments}
        onChange={(e) => setComments(e.target.value)}
      />
    </Dialog>
  );
}
