import type { ProcessorTypeDto, PropertyDescriptorDto } from '@sluice/protocol';
import { SENSITIVE_VALUE_SET } from '@sluice/protocol';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage } from '../api.ts';
import { useEditor } from '../editor-context.ts';
import { groupPath } from '../flow-model.ts';
import { checkDynamic, checkParameters, checkProperty, type ParameterScope, type PropertyProblem } from '../properties.ts';

// The property section shared by the processor and controller service dialogs: one field per
// descriptor (rendered from the type's declaration), dynamic properties, and the checks as you type.

type Values = Record<string, string | null>;
type DynamicDescriptor = ProcessorTypeDto['dynamicProperties'];

/** Descriptors whose `dependsOn` condition holds for these values. */
export function visibleDescriptors(descriptors: readonly PropertyDescriptorDto[], values: Values): PropertyDescriptorDto[] {
  return descriptors.filter((d) => {
    if (d.dependsOn === undefined) return true;
    const other = descriptors.find((p) => p.name === d.dependsOn?.property);
    const current = values[d.dependsOn.property] ?? other?.default ?? '';
    return d.dependsOn.values.includes(current);
  });
}

/** Names of the dynamic properties among the values (those no descriptor declares). */
export function dynamicKeysOf(descriptors: readonly PropertyDescriptorDto[], values: Values): string[] {
  const declared = new Set(descriptors.map((d) => d.name));
  return Object.keys(values).filter((k) => !declared.has(k) && values[k] !== null);
}

/** Every problem of the values, by property name. */
export function propertyProblems(
  all: readonly PropertyDescriptorDto[],
  dynamic: DynamicDescriptor,
  values: Values,
  /** The parameters of the component's group, to check `#{name}` references (skipped when undefined). */
  parameters?: ParameterScope,
): Map<string, PropertyProblem> {
  const problems = new Map<string, PropertyProblem>();
  for (const d of visibleDescriptors(all, values)) {
    const value = values[d.name] === SENSITIVE_VALUE_SET ? 'x' : values[d.name];
    const problem = checkProperty(d, value) ?? checkParameters(value, parameters);
    if (problem !== undefined) problems.set(d.name, problem);
  }
  for (const key of dynamicKeysOf(all, values)) {
    const problem =
      checkDynamic(dynamic?.valueIs, dynamic?.expression, values[key] ?? '') ?? checkParameters(values[key], parameters);
    if (problem !== undefined) problems.set(key, problem);
  }
  return problems;
}

/** Underlines the part of a value an Expression Language error is about. */
function ErrorExcerpt({ value, problem }: { value: string; problem: PropertyProblem }) {
  if (problem.position === undefined) return null;
  const start = Math.min(problem.position, value.length);
  const end = Math.min(value.length, start + (problem.length ?? 1));
  return (
    <code className="el-excerpt" data-testid="el-excerpt">
      {value.slice(0, start)}
      <mark>{value.slice(start, end) || ' '}</mark>
      {value.slice(end)}
    </code>
  );
}

function ProblemLine({ name, value, problem }: { name: string; value: string; problem: PropertyProblem | undefined }) {
  const { t } = useTranslation();
  if (problem === undefined) return null;
  return (
    <div className="field-error" role="alert" data-testid={`property-error-${name}`}>
      {t(problem.key, problem.values)}
      <ErrorExcerpt value={value} problem={problem} />
    </div>
  );
}

function PropertyInput({
  descriptor,
  value,
  disabled,
  groupId,
  onChange,
}: {
  descriptor: PropertyDescriptorDto;
  groupId: string;
  value: string | null | undefined;
  disabled: boolean;
  onChange: (value: string | null) => void;
}) {
  const { t } = useTranslation();
  const testId = `property-input-${descriptor.name}`;
  const id = `property-${descriptor.name}`;
  if (descriptor.kind === 'service')
    return (
      <ServicePicker
        api={descriptor.service}
        value={value}
        disabled={disabled}
        groupId={groupId}
        testId={testId}
        id={id}
        onChange={onChange}
      />
    );
  const allowed =
    descriptor.allowableValues ??
    (descriptor.kind === 'boolean'
      ? [
          { value: 'true', displayName: 'true' },
          { value: 'false', displayName: 'false' },
        ]
      : undefined);
  if (allowed !== undefined && allowed.length > 0) {
    return (
      <select
        data-testid={testId}
        disabled={disabled}
        value={value ?? ''}
        onChange={(e) => onChange(e.target.value === '' ? null : e.target.value)}
      >
        <option value="">
          {descriptor.default === undefined ? t('configure.notSet') : t('configure.default', { value: descriptor.default })}
        </option>
        {allowed.map((a) => (
          <option key={a.value} value={a.value} title={a.description}>
            {a.displayName}
          </option>
        ))}
      </select>
    );
  }
  if (descriptor.sensitive) {
    const isSet = value === SENSITIVE_VALUE_SET;
    return (
      <span className="sensitive-input">
        <input
          id={id}
          type="password"
          data-testid={testId}
          autoComplete="new-password"
          disabled={disabled}
          placeholder={isSet ? t('configure.sensitiveSet') : ''}
          value={isSet ? '' : (value ?? '')}
          title={t('configure.sensitiveHint')}
          onChange={(e) => onChange(e.target.value === '' ? (isSet ? SENSITIVE_VALUE_SET : null) : e.target.value)}
        />
        {isSet && !disabled && (
          <button type="button" className="link" onClick={() => onChange(null)}>
            {t('configure.clearSensitive')}
          </button>
        )}
      </span>
    );
  }
  const multiline = (value ?? '').includes('\n') || descriptor.name.toLowerCase().includes('text');
  const common = {
    id,
    'data-testid': testId,
    disabled,
    value: value ?? '',
    placeholder: descriptor.default === undefined ? '' : t('configure.default', { value: descriptor.default }),
    spellCheck: false,
  };
  return multiline ? (
    <textarea {...common} rows={3} onChange={(e) => onChange(e.target.value === '' ? null : e.target.value)} />
  ) : (
    <input {...common} onChange={(e) => onChange(e.target.value === '' ? null : e.target.value)} />
  );
}

/** A controller service reference: services in scope that provide `api`, or a new one. */
export function ServicePicker({
  api,
  value,
  disabled,
  groupId,
  testId,
  id,
  onChange,
}: {
  api: string | undefined;
  value: string | null | undefined;
  disabled: boolean;
  groupId: string;
  testId: string;
  id: string;
  onChange: (value: string | null) => void;
}) {
  const { t } = useTranslation();
  const ctx = useEditor();
  const [error, setError] = useState<string | undefined>();
  const providers = ctx.serviceTypes.filter((s) => api !== undefined && s.provides.includes(api));
  const inScope = groupPath(ctx.flow.flow.rootGroup, groupId)
    .flatMap((g) => g.controllerServices)
    .filter((s) => providers.some((p) => p.type === s.type));
  const choose = async (choice: string) => {
    setError(undefined);
    if (!choice.startsWith('new:')) {
      onChange(choice === '' ? null : choice);
      return;
    }
    try {
      const type = choice.slice(4);
      const created = await call('createService', { params: { id: groupId }, body: { type, name: type } });
      await ctx.refresh();
      onChange(created.id);
      ctx.open({ kind: 'services' });
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <>
      <select id={id} data-testid={testId} disabled={disabled} value={value ?? ''} onChange={(e) => void choose(e.target.value)}>
        <option value="">{t('configure.notSet')}</option>
        {inScope.map((s) => (
          <option key={s.id} value={s.id}>
            {s.name} ({s.type}, {t(`services.state.${s.state}`)})
          </option>
        ))}
        {ctx.canEdit &&
          providers.map((p) => (
            <option key={p.type} value={`new:${p.type}`}>
              {t('services.createNew', { type: p.type })}
            </option>
          ))}
      </select>
      {error !== undefined && <span className="field-error">{error}</span>}
    </>
  );
}

/** The property rows of a dialog (declared, then dynamic with add and remove). */
export function PropertyEditor({
  descriptors,
  dynamic,
  values,
  problems,
  readOnly,
  groupId,
  onChange,
}: {
  /** The visible descriptors (see {@link visibleDescriptors}). */
  descriptors: readonly PropertyDescriptorDto[];
  dynamic: DynamicDescriptor;
  values: Values;
  problems: ReadonlyMap<string, PropertyProblem>;
  readOnly: boolean;
  groupId: string;
  onChange: (values: Values) => void;
}) {
  const { t } = useTranslation();
  const [newName, setNewName] = useState('');
  const [newValue, setNewValue] = useState('');
  const dynamicKeys = Object.keys(values).filter((k) => !descriptors.some((d) => d.name === k) && values[k] !== null);
  const nameTaken =
    newName.trim() === '' || descriptors.some((d) => d.name === newName.trim()) || dynamicKeys.includes(newName.trim());
  return (
    <div className="properties">
      {descriptors.map((d) => (
        <div key={d.name} className={`property-row${problems.has(d.name) ? ' invalid' : ''}`} data-testid={`property-${d.name}`}>
          <label className="property-name" htmlFor={`property-${d.name}`} title={d.description}>
            {d.displayName}
            {d.required && (
              <span className="required" title={t('configure.required')}>
                {' '}
                *
              </span>
            )}
            {d.expression !== 'none' && (
              <span className="el-badge" title={t('configure.elSupport', { scope: t(`configure.elScope.${d.expression}`) })}>
                EL
              </span>
            )}
          </label>
          <div className="property-value">
            <PropertyInput
              groupId={groupId}
              descriptor={d}
              value={values[d.name] ?? null}
              disabled={readOnly}
              onChange={(v) => onChange({ ...values, [d.name]: v })}
            />
            <ProblemLine name={d.name} value={values[d.name] ?? d.default ?? ''} problem={problems.get(d.name)} />
            <small className="description">{d.description}</small>
          </div>
        </div>
      ))}
      <h3>{t('configure.dynamic')}</h3>
      {dynamic === undefined ? (
        <p className="hint">{t('configure.noDynamic')}</p>
      ) : (
        <>
          <p className="hint">{t('configure.dynamicHint', { description: dynamic.description })}</p>
          {dynamicKeys.map((key) => (
            <div key={key} className={`property-row${problems.has(key) ? ' invalid' : ''}`} data-testid={`property-${key}`}>
              <label className="property-name" htmlFor={`property-${key}`}>
                {key}
              </label>
              <div className="property-value">
                <input
                  id={`property-${key}`}
                  data-testid={`property-input-${key}`}
                  type={dynamic.sensitive ? 'password' : 'text'}
                  disabled={readOnly}
                  spellCheck={false}
                  value={values[key] === SENSITIVE_VALUE_SET ? '' : (values[key] ?? '')}
                  placeholder={values[key] === SENSITIVE_VALUE_SET ? t('configure.sensitiveSet') : ''}
                  onChange={(e) => onChange({ ...values, [key]: e.target.value })}
                />
                <ProblemLine name={key} value={values[key] ?? ''} problem={problems.get(key)} />
              </div>
              {!readOnly && (
                <button type="button" data-testid={`property-remove-${key}`} onClick={() => onChange({ ...values, [key]: null })}>
                  {t('app.remove')}
                </button>
              )}
            </div>
          ))}
          {!readOnly && (
            <div className="property-row add-row">
              <input
                data-testid="dynamic-name"
                placeholder={t('configure.dynamicName')}
                value={newName}
                onChange={(e) => setNewName(e.target.value)}
              />
              <input
                data-testid="dynamic-value"
                placeholder={t('configure.dynamicValue')}
                value={newValue}
                onChange={(e) => setNewValue(e.target.value)}
              />
              <button
                type="button"
                data-testid="dynamic-add"
                disabled={nameTaken}
                title={nameTaken ? t('configure.errors.dynamicName') : undefined}
                onClick={() => {
                  onChange({ ...values, [newName.trim()]: newValue });
                  setNewName('');
                  setNewValue('');
                }}
              >
                {t('configure.addDynamic')}
              </button>
            </div>
          )}
        </>
      )}
    </div>
  );
}
