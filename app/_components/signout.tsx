'use client';
import { api } from './api.js';

export function SignOut() {
  return (
    <button
      className="ghost"
      onClick={async () => {
        await api('/api/auth/logout', { method: 'POST' }).catch(() => undefined);
        window.location.href = '/login';
      }}
    >
      Sign out
    </button>
  );
}
