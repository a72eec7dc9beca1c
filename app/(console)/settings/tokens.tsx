'use client';
import { useCallback, useEffect, useState } from 'react';
import { api, ApiError } from '../../_components/api.js';
import { Empty, ErrorBox, Loading } from '../../_components/states.js';

interface TToken {
  id: string;
  name: string;
  role: string;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export function Tokens() {
  const [tokens, setTokens] = useState<TToken[] | null>(null);
  const [err, setErr] = useState<ApiError | null>(null);
  const [fresh, setFresh] = useState<string | null>(null);
  const load = useCallback(() => {
    api<{ tokens: TToken[] }>('/api/tokens')
      .then((r) => setTokens(r.tokens))
      .catch((e) => setErr(e as ApiError));
  }, []);
  useEffect(load, [load]);
  return (
    <div style={{ display: 'grid', gap: 8 }}>
      <form
        className="row"
        onSubmit={async (e) => {
          e.preventDefault();
          const f = new FormData(e.currentTarget);
          setErr(null);
          try {
            const r = await api<{ token: string }>('/api/tokens', { method: 'POST', body: { name: f.get('name'), role: f.get('role') } });
            setFresh(r.token);
            load();
          } catch (x) {
            setErr(x as ApiError);
          }
        }}
      >
        <input name="name" placeholder="token name, e.g. ci" required />
        <select name="role" defaultValue="operator">
          <option value="viewer">viewer</option>
          <option value="operator">operator</option>
        </select>
        <button type="submit">Create token</button>
      </form>
      {fresh && (
        <div className="panel" style={{ background: '#172415' }}>
          Copy it now, it is not shown again: <code data-testid="new-token">{fresh}</code>
        </div>
      )}
      <ErrorBox error={err} />
      {!tokens ? (
        <Loading what="tokens" />
      ) : tokens.length === 0 ? (
        <Empty>No API tokens yet.</Empty>
      ) : (
        <table className="t">
          <thead>
            <tr>
              <th>Name</th>
              <th>Role</th>
              <th>Created</th>
              <th>Last used</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tokens.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td>{t.role}</td>
                <td className="muted">
                  {new Date(t.createdAt).toLocaleString()} by {t.createdBy}
                </td>
                <td className="muted">{t.lastUsedAt ? new Date(t.lastUsedAt).toLocaleString() : 'never'}</td>
                <td>
                  {t.revokedAt ? (
                    <span className="badge b-dim">revoked</span>
                  ) : (
                    <button
                      className="ghost"
                      onClick={async () => {
                        await api(`/api/tokens/${t.id}`, { method: 'DELETE' }).catch((e) => setErr(e as ApiError));
                        load();
                      }}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
