'use client';
import { useState } from 'react';
import { api, ApiError } from '../_components/api.js';
import { ErrorBox } from '../_components/states.js';

export default function LoginPage() {
  const [err, setErr] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <div className="login">
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const f = new FormData(e.currentTarget);
          setBusy(true);
          setErr(null);
          try {
            await api('/api/auth/login', { method: 'POST', body: { username: f.get('username'), password: f.get('password') } });
            window.location.href = '/';
          } catch (x) {
            setErr(x as ApiError);
            setBusy(false);
          }
        }}
      >
        <div className="brand" style={{ padding: 0 }}>
          <span className="logo" /> faultline
        </div>
        <label className="f">
          User
          <input name="username" autoComplete="username" autoFocus required />
        </label>
        <label className="f">
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        <ErrorBox error={err} />
        <button className="primary" type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
