import { useTranslation } from 'react-i18next';

/**
 * Attributes as a table; with `previous`, a diff (before / after, changed rows marked), as provenance
 * event details show them.
 */
export function AttributeTable({
  attributes,
  previous,
  onlyChanged = false,
}: {
  attributes: Record<string, string>;
  previous?: Record<string, string>;
  onlyChanged?: boolean;
}) {
  const { t } = useTranslation();
  const names = [...new Set([...Object.keys(previous ?? {}), ...Object.keys(attributes)])].sort();
  const rows = names
    .map((name) => ({ name, before: previous?.[name], after: attributes[name] }))
    .map((r) => ({ ...r, changed: previous !== undefined && r.before !== r.after }))
    .filter((r) => !onlyChanged || r.changed);
  return (
    <table className="data-table attributes" data-testid="attribute-table">
      <thead>
        <tr>
          <th>{t('flowFile.name')}</th>
          {previous !== undefined && <th>{t('provenance.before')}</th>}
          <th>{previous === undefined ? t('flowFile.value') : t('provenance.after')}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.name} className={r.changed ? 'changed' : ''} data-testid={`attribute-${r.name}`} data-changed={r.changed}>
            <td>
              {r.name}
              {r.changed && <span className="badge">{t('provenance.changed')}</span>}
            </td>
            {previous !== undefined && <td className="before">{r.before ?? ''}</td>}
            <td>{r.after ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
