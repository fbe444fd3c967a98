import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { errorMessage, fetchBytes } from '../api.ts';
import { formatBytes, hexDump, prettyJson } from '../format.ts';

type Mode = 'text' | 'json' | 'hex' | 'image';
const MAX_SHOWN = 1024 * 1024;

/**
 * Shows content from a binary route (`url` answers inline with ?disposition=inline) as text, pretty
 * JSON, hex or image, with a download link. Only the first MiB is read for viewing.
 */
export function ContentView({ url, mimeType, size }: { url: string; mimeType: string | null; size: number }) {
  const { t } = useTranslation();
  const [bytes, setBytes] = useState<Uint8Array | undefined>();
  const [error, setError] = useState<string | undefined>();
  const initial: Mode = mimeType?.startsWith('image/') === true ? 'image' : mimeType?.includes('json') === true ? 'json' : 'text';
  const [mode, setMode] = useState<Mode>(initial);

  useEffect(() => {
    if (size === 0) return;
    fetchBytes(`${url}?disposition=inline`).then(
      (b) => setBytes(b.subarray(0, MAX_SHOWN)),
      (e: unknown) => setError(errorMessage(e)),
    );
  }, [url, size]);

  const [imageUrl, setImageUrl] = useState<string | undefined>();
  useEffect(() => {
    if (mode !== 'image' || bytes === undefined) return;
    const objectUrl = URL.createObjectURL(new Blob([new Uint8Array(bytes)], { type: mimeType ?? 'image/png' }));
    setImageUrl(objectUrl);
    return () => URL.revokeObjectURL(objectUrl);
  }, [mode, bytes, mimeType]);

  if (size === 0) return <p className="hint">{t('flowFile.noContent')}</p>;
  if (error !== undefined)
    return (
      <p className="error" role="alert">
        {error}
      </p>
    );
  const text = bytes === undefined ? '' : new TextDecoder().decode(bytes);
  const pretty = mode === 'json' ? prettyJson(text) : undefined;
  return (
    <div className="content-view">
      <div className="content-modes">
        {t('flowFile.view')}:{' '}
        {(['text', 'json', 'hex', 'image'] as const).map((m) => (
          <button
            key={m}
            type="button"
            className={m === mode ? 'active' : ''}
            data-testid={`content-mode-${m}`}
            onClick={() => setMode(m)}
          >
            {t(`flowFile.${m}`)}
          </button>
        ))}
        <a className="button" data-testid="content-download" href={`${url}?disposition=attachment`} download>
          {t('flowFile.download')}
        </a>
      </div>
      {size > MAX_SHOWN && <p className="hint">{t('flowFile.truncated', { size: formatBytes(MAX_SHOWN) })}</p>}
      {bytes === undefined ? (
        <p>{t('app.loading')}</p>
      ) : mode === 'image' ? (
        imageUrl !== undefined && <img src={imageUrl} alt="" className="content-image" />
      ) : (
        <>
          {mode === 'json' && pretty === undefined && <p className="hint">{t('flowFile.notJson')}</p>}
          <pre className="content-text" data-testid="content-text">
            {mode === 'hex' ? hexDump(bytes) : (pretty ?? text)}
          </pre>
        </>
      )}
    </div>
  );
}
