import type { SessionDto } from '@sluice/protocol';
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, setCsrfToken, setUnauthorizedHandler } from './api.ts';
import { Editor } from './Editor.tsx';
import { LoginPage } from './LoginPage.tsx';

/** Session gate: the login page until there is a session, then the editor. */
export function App() {
  const { t } = useTranslation();
  const [session, setSession] = useState<SessionDto | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>();

  const login = useCallback((s: SessionDto) => {
    setCsrfToken(s.csrfToken);
    setNotice(undefined);
    setSession(s);
  }, []);
  const ended = useCallback(
    (reason: string) => {
      setCsrfToken(undefined);
      setSession(null);
      setNotice(t('login.sessionEnded', { reason }));
    },
    [t],
  );

  useEffect(() => {
    setUnauthorizedHandler(() => ended('401'));
    call('session').then(login, () => setSession(null));
    return () => setUnauthorizedHandler(undefined);
  }, [login, ended]);

  const logout = useCallback(async () => {
    try {
      await call('logout');
    } finally {
      setCsrfToken(undefined);
      setSession(null);
    }
  }, []);

  if (session === undefined) return <p className="loading">{t('app.loading')}</p>;
  if (session === null) return <LoginPage onLogin={login} notice={notice} />;
  return <Editor session={session} onLogout={() => void logout()} onSessionEnded={ended} />;
}
