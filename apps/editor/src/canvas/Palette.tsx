import { useMemo, useState, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import type { NewComponent } from '../actions.ts';
import { errorMessage } from '../api.ts';
import { RemoveSnippetButton } from '../dialogs/SnippetDialog.tsx';
import { useEditor } from '../editor-context.ts';

/** The drag payload type of palette items. */
export const PALETTE_MIME = 'application/x-sluice-component';

/** What a palette item puts on the canvas: a new component, or a saved snippet pasted. */
export type PaletteSpec = NewComponent | { readonly kind: 'snippet'; readonly name: string };

function Item({
  spec,
  label,
  title,
  testId,
  onAdd,
}: {
  spec: PaletteSpec;
  label: string;
  title: string;
  testId: string;
  onAdd: (spec: PaletteSpec) => void;
}) {
  return (
    <li
      className="palette-item"
      draggable
      data-testid={testId}
      title={title}
      onDragStart={(e) => {
        e.dataTransfer.setData(PALETTE_MIME, JSON.stringify(spec));
        e.dataTransfer.effectAllowed = 'copy';
      }}
      onDoubleClick={() => onAdd(spec)}
    >
      {label}
    </li>
  );
}

/** "Add processor": every type, searchable by name, tag and description; drag or double-click. */
export function Palette({ onAdd }: { onAdd: (spec: PaletteSpec) => void }) {
  const { t } = useTranslation();
  const { typeList, snippets: store, notify } = useEditor();
  const snippets = useSyncExternalStore(store.subscribe, store.list);
  const [query, setQuery] = useState('');
  const matches = useMemo(() => {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    return typeList.filter((type) => {
      const haystack = `${type.type} ${type.tags.join(' ')} ${type.description}`.toLowerCase();
      return words.every((w) => haystack.includes(w));
    });
  }, [query, typeList]);
  return (
    <aside className="palette" data-testid="palette">
      <h2>{t('palette.heading')}</h2>
      <input
        type="search"
        data-testid="palette-search"
        placeholder={t('palette.search')}
        aria-label={t('palette.search')}
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      <p className="hint">{t('palette.hint')}</p>
      <ul className="palette-list">
        {matches.map((type) => (
          <Item
            key={type.type}
            spec={{ kind: 'processor', type: type.type }}
            label={type.type}
            title={`${type.description}\n${type.tags.join(', ')}${type.restricted === undefined ? '' : `\n${t('palette.restricted', { why: type.restricted })}`}`}
            testId={`palette-${type.type}`}
            onAdd={onAdd}
          />
        ))}
        {matches.length === 0 && <li className="hint">{t('palette.empty', { query })}</li>}
      </ul>
      <ul className="palette-list palette-others">
        <Item
          spec={{ kind: 'process-group', name: t('toolbar.newGroupName') }}
          label={`▣ ${t('palette.group')}`}
          title={t('palette.group')}
          testId="palette-group"
          onAdd={onAdd}
        />
        <Item
          spec={{ kind: 'input-port', name: t('toolbar.newPort') }}
          label={`⇥ ${t('palette.inputPort')}`}
          title={t('palette.inputPort')}
          testId="palette-input-port"
          onAdd={onAdd}
        />
        <Item
          spec={{ kind: 'output-port', name: t('toolbar.newPort') }}
          label={`↦ ${t('palette.outputPort')}`}
          title={t('palette.outputPort')}
          testId="palette-output-port"
          onAdd={onAdd}
        />
        <Item
          spec={{ kind: 'remote-process-group', settings: { targetUris: '' } }}
          label={`☁ ${t('palette.remoteGroup')}`}
          title={t('remote.hint')}
          testId="palette-remote-group"
          onAdd={onAdd}
        />
        <Item
          spec={{ kind: 'funnel' }}
          label={`⏷ ${t('palette.funnel')}`}
          title={t('palette.funnel')}
          testId="palette-funnel"
          onAdd={onAdd}
        />
        <Item
          spec={{ kind: 'label', text: t('toolbar.newLabel') }}
          label={`✎ ${t('palette.label')}`}
          title={t('palette.label')}
          testId="palette-label"
          onAdd={onAdd}
        />
      </ul>
      <h2>{t('snippets.heading')}</h2>
      {snippets.length === 0 ? (
        <p className="hint" data-testid="snippets-empty">
          {t('snippets.empty')}
        </p>
      ) : (
        <>
          <p className="hint">{t('snippets.paste')}</p>
          <ul className="palette-list palette-snippets">
            {snippets.map((snippet) => (
              <li key={snippet.id} className="snippet-row">
                <ul className="palette-list">
                  <Item
                    spec={{ kind: 'snippet', name: snippet.name }}
                    label={`⎘ ${snippet.name}`}
                    title={t('snippets.summary', { count: snippet.componentCount })}
                    testId={`snippet-${snippet.name}`}
                    onAdd={onAdd}
                  />
                </ul>
                <RemoveSnippetButton
                  name={snippet.name}
                  testId={`snippet-remove-${snippet.name}`}
                  onRemove={() => {
                    store
                      .remove(snippet.name)
                      .catch((e: unknown) => notify(t('app.error', { message: errorMessage(e) }), 'error'));
                  }}
                />
              </li>
            ))}
          </ul>
        </>
      )}
    </aside>
  );
}
