import i18next from 'i18next';
import { initReactI18next } from 'react-i18next';
import { en } from './en.ts';
import { ko } from './ko.ts';

/** The languages the editor speaks, with their own names (shown in the switch). */
export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'ko', name: '한국어' },
] as const;

const STORAGE_KEY = 'sluice.language';

function initialLanguage(): string {
  const stored = window.localStorage.getItem(STORAGE_KEY);
  if (stored !== null && LANGUAGES.some((l) => l.code === stored)) return stored;
  return navigator.language.toLowerCase().startsWith('ko') ? 'ko' : 'en';
}

void i18next.use(initReactI18next).init({
  resources: { en: { translation: en }, ko: { translation: ko } },
  lng: initialLanguage(),
  fallbackLng: 'en',
  interpolation: { escapeValue: false },
  returnNull: false,
});
i18next.on('languageChanged', (lng) => {
  window.localStorage.setItem(STORAGE_KEY, lng);
  document.documentElement.lang = lng;
});
document.documentElement.lang = i18next.language;

export { i18next };
