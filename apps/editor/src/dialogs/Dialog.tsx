import { type ReactNode, useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { useEditor } from '../editor-context.ts';

/** A modal dialog: title, body, optional footer; Escape or the close button closes it. */
export function Dialog({
  title,
  testId,
  children,
  footer,
  wide = false,
  onClose,
}: {
  title: string;
  testId: string;
  children: ReactNode;
  footer?: ReactNode;
  wide?: boolean;
  onClose?: () => void;
}) {
  const { t } = useTranslation();
  const { close } = useEditor();
  const dismiss = onClose ?? close;
  const overlay = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      // Only the topmost of stacked dialogs closes.
      const overlays = document.querySelectorAll('.overlay');
      if (e.key === 'Escape' && overlays[overlays.length - 1] === overlay.current) dismiss();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [dismiss]);
  return (
    <div className="overlay" ref={overlay}>
      <section className={`dialog${wide ? ' wide' : ''}`} role="dialog" aria-modal="true" aria-label={title} data-testid={testId}>
        <header className="dialog-header">
          <h2>{title}</h2>
          <button type="button" className="link" data-testid="dialog-close" onClick={dismiss} aria-label={t('app.close')}>
            ✕
          </button>
        </header>
        <div className="dialog-body">{children}</div>
        {footer !== undefined && <footer className="dialog-footer">{footer}</footer>}
      </section>
    </div>
  );
}

/** Tabs inside a dialog. */
export function Tabs<T extends string>({
  tabs,
  current,
  onChange,
}: {
  tabs: readonly { id: T; label: string; invalid?: boolean }[];
  current: T;
  onChange: (id: T) => void;
}) {
  return (
    <div className="tabs" role="tablist">
      {tabs.map((tab) => (
        <button
          key={tab.id}
          type="button"
          role="tab"
          aria-selected={tab.id === current}
          className={`tab${tab.id === current ? ' active' : ''}${tab.invalid === true ? ' invalid' : ''}`}
          data-testid={`tab-${tab.id}`}
          onClick={() => onChange(tab.id)}
        >
          {tab.label}
        </button>
      ))}
    </div>
  );
}

/** A label and a text input, as a pair of cells of a `.form-grid`. */
export function TextField({
  id,
  label,
  value,
  onChange,
  disabled,
  testId,
  title,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  disabled: boolean;
  testId?: string;
  title?: string;
}) {
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        data-testid={testId}
        disabled={disabled}
        value={value}
        title={title}
        onChange={(e) => onChange(e.target.value)}
      />
    </>
  );
}

/** The error line of a dialog's footer (nothing when there is no error). */
export function ErrorLine({ error, testId }: { error: string | undefined; testId: string }) {
  if (error === undefined) return null;
  return (
    <span className="error" role="alert" data-testid={testId}>
      {error}
    </span>
  );
}

/** Label / value rows (event details, diagnostics). */
export function KeyValueTable({ rows, testId }: { rows: readonly (readonly [string, string])[]; testId: string }) {
  return (
    <table className="data-table" data-testid={testId}>
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <th>{k}</th>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
