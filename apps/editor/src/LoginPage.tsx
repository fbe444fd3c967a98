import type { SessionDto } from '@sluice/protocol';
import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage } from './api.ts';
import { LanguageSwitch } from './LanguageSwitch.tsx';

/** The login form; `notice` says why the user is here again (session ended). */
export function LoginPage({ onLogin, notice }: { onLogin: (session: SessionDto) => void; notice: string | undefined }) {
  const { t } = useTranslation();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onLogin(await call('login', { body: { username, password } }));
    } catch (e) {
      setError(t('login.failed', { message: errorMessage(e) }));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login-page">
      <form className="login-form" onSubmit={(e) => void submit(e)} data-testid="login-form">
        <div className="login-title">
          <h1>{t('login.heading')}</h1>
          <LanguageSwitch />
        </div>
        {notice !== undefined && <p className="notice">{notice}</p>}
        <label>
          {t('login.username')}
          <input
            data-testid="login-username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            required
          />
        </label>
        <label>
          {t('login.password')}
          <input
            data-testid="login-password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        {error !== undefined && (
          <p className="error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy} data-testid="login-submit">
          {t('login.submit')}
        </button>
        <p className="hint">{t('login.hint')}</p>
      </form>
    </main>
  );
}
