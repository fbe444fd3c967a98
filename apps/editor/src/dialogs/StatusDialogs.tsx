import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage, type Reply } from '../api.ts';
import { formatBytes, formatCount, formatDuration } from '../format.ts';
import { Dialog, KeyValueTable } from './Dialog.tsx';

const WIDTH = 720;
const HEIGHT = 220;

/** One series as an SVG line over the sample times. */
function LineChart({ times, values }: { times: readonly number[]; values: readonly number[] }) {
  const first = times[0] ?? 0;
  const span = Math.max(1, (times[times.length - 1] ?? 0) - first);
  const max = Math.max(1, ...values);
  const points = values
    .map((v, i) => `${(((times[i] ?? first) - first) / span) * WIDTH},${HEIGHT - (v / max) * HEIGHT}`)
    .join(' ');
  return (
    <svg
      className="chart"
      viewBox={`-4 -4 ${WIDTH + 8} ${HEIGHT + 8}`}
      role="img"
      aria-label={`max ${max}`}
      data-testid="history-chart"
    >
      <line x1={0} y1={HEIGHT} x2={WIDTH} y2={HEIGHT} className="axis" />
      <polyline points={points} className="series" />
      <text x={4} y={12} className="axis-label">
        {formatCount(max)}
      </text>
    </svg>
  );
}

/** Counts over time for a component or connection (a sample a minute, one day). */
export function HistoryDialog({ id, name }: { id: string; name: string }) {
  const { t } = useTranslation();
  const [history, setHistory] = useState<Reply<'getStatusHistory'> | undefined>();
  const [series, setSeries] = useState('');
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    call('getStatusHistory', { params: { id } }).then(
      (h) => {
        setHistory(h);
        setSeries(Object.keys(h.series)[0] ?? '');
      },
      (e: unknown) => setError(errorMessage(e)),
    );
  }, [id]);
  const values = history?.series[series] ?? [];
  return (
    <Dialog title={t('history.heading', { name })} testId="history-dialog" wide>
      {error !== undefined && <p className="error">{error}</p>}
      {history !== undefined && (
        <>
          <label>
            {t('history.series')}{' '}
            <select data-testid="history-series" value={series} onChange={(e) => setSeries(e.target.value)}>
              {Object.keys(history.series).map((key) => (
                <option key={key}>{key}</option>
              ))}
            </select>
          </label>
          {history.times.length === 0 ? (
            <p className="hint">{t('history.empty')}</p>
          ) : (
            <>
              <LineChart times={history.times} values={values} />
              <p className="hint">
                {t('history.samples', { count: history.times.length })} ·{' '}
                {t('history.latest', { value: formatCount(values[values.length - 1] ?? 0) })}
              </p>
            </>
          )}
        </>
      )}
    </Dialog>
  );
}

/** Heap, event loop, repositories and disk of the server. */
export function DiagnosticsDialog() {
  const { t } = useTranslation();
  const [d, setDiagnostics] = useState<Reply<'getDiagnostics'> | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    call('getDiagnostics').then(setDiagnostics, (e: unknown) => setError(errorMessage(e)));
  }, []);
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const rows: [string, string][] =
    d === undefined
      ? []
      : [
          [t('diagnostics.version'), d.version],
          [t('diagnostics.uptime'), formatDuration(d.uptimeMs)],
          [t('diagnostics.node'), `${d.node} (${d.platform}, ${d.cpus} CPUs)`],
          [
            t('diagnostics.heap'),
            `${formatBytes(d.memory.heapUsedBytes)} / ${formatBytes(d.memory.heapTotalBytes)} / ${formatBytes(d.memory.heapLimitBytes)}`,
          ],
          [t('diagnostics.rss'), formatBytes(d.memory.rssBytes)],
          [
            t('diagnostics.eventLoop'),
            `${ms(d.eventLoopDelayMs.p50)} / ${ms(d.eventLoopDelayMs.p99)} / ${ms(d.eventLoopDelayMs.max)}`,
          ],
          [
            t('diagnostics.content'),
            `${formatBytes(d.repositories.content.liveBytes)} / ${formatBytes(d.repositories.content.archivedBytes)}${d.repositories.content.full ? ` — ${t('diagnostics.contentFull')}` : ''}`,
          ],
          [t('diagnostics.journal'), formatBytes(d.repositories.flowFile.journalBytes)],
          [
            t('diagnostics.provenance'),
            `${formatCount(d.repositories.provenance.events)} (${formatBytes(d.repositories.provenance.bytes)}) — ${t(`diagnostics.provenanceMode.${d.repositories.provenance.mode}`)}`,
          ],
          [t('diagnostics.flow'), String(d.repositories.flow.version)],
          [t('diagnostics.disk', { path: d.disk.path }), `${formatBytes(d.disk.freeBytes)} / ${formatBytes(d.disk.totalBytes)}`],
          [t('diagnostics.queued'), `${formatCount(d.queued.count)} (${formatBytes(d.queued.bytes)})`],
          [t('diagnostics.sockets'), String(d.sockets)],
        ];
  return (
    <Dialog title={t('diagnostics.heading')} testId="diagnostics-dialog">
      {error !== undefined && <p className="error">{error}</p>}
      <KeyValueTable rows={rows} testId="diagnostics-table" />
    </Dialog>
  );
}
