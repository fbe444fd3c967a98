import { useTranslation } from 'react-i18next';
import { formatTime } from '../format.ts';
import { useBulletins } from '../status-store.ts';
import { Dialog } from './Dialog.tsx';

/** Recent bulletins (five minutes), newest first, as they arrive. */
export function BulletinBoard() {
  const { t } = useTranslation();
  const bulletins = [...useBulletins()].reverse();
  return (
    <Dialog title={t('bulletins.heading')} testId="bulletin-board" wide>
      {bulletins.length === 0 ? (
        <p className="hint">{t('bulletins.empty')}</p>
      ) : (
        <table className="data-table">
          <thead>
            <tr>
              <th>{t('bulletins.time')}</th>
              <th>{t('bulletins.level')}</th>
              <th>{t('bulletins.source')}</th>
              <th>{t('bulletins.message')}</th>
            </tr>
          </thead>
          <tbody>
            {bulletins.map((b) => (
              <tr key={b.id} className={`level-${b.level}`} data-testid="bulletin-row">
                <td>{formatTime(b.time)}</td>
                <td>{b.level}</td>
                <td>{b.componentName ?? b.componentId ?? ''}</td>
                <td>{b.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Dialog>
  );
}
