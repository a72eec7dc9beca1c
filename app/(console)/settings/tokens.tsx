'use client';
import { useCallback, useEffect, useState } from 'react';
import { api, ApiError } from '../../_components/api.js';
import { DataTable } from '../../_components/data-table.js';
import { ErrorBox, Loading } from '../../_components/states.js';
import { Time } from '../../_components/time.js';
import { Badge } from '../../_components/verdict-badge.js';

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
    <div className="stack tight">
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
        <div className="panel callout">
          Copy it now, it is not shown again: <code data-testid="new-token">{fresh}</code>
        </div>
      )}
      <ErrorBox error={err} />
      {!tokens ? (
        <Loading what="tokens" />
      ) : (
        <DataTable
          rows={tokens}
          rowKey={(t) => t.id}
          empty="No API tokens yet."
          columns={[
            { header: 'Name', cell: (t) => t.name },
            { header: 'Role', cell: (t) => t.role },
            {
              header: 'Created',
              className: 'muted',
              cell: (t) => (
                <>
                  <Time at={t.createdAt} /> by {t.createdBy}
                </>
              ),
            },
            { header: 'Last used', className: 'muted', cell: (t) => (t.lastUsedAt ? <Time at={t.lastUsedAt} /> : 'never') },
            {
              header: '',
              cell: (t) =>
                t.revokedAt ? (
                  <Badge tone="dim">revoked</Badge>
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
                ),
            },
          ]}
        />
      )}
    </div>
  );
}
