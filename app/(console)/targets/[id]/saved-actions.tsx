'use client';
/** Delete for a target saved in the console (the API refuses while a saved experiment names it). Operators only. */
import { useState } from 'react';
import { useRouter } from 'next/navigation';
import { api, ApiError } from '../../../_components/api.js';
import { ErrorBox } from '../../../_components/states.js';

export function DeleteTarget({ id }: { id: string }) {
  const router = useRouter();
  const [err, setErr] = useState<ApiError | null>(null);
  return (
    <>
      <button
        className="ghost"
        data-testid="delete-target"
        onClick={async () => {
          if (!confirm(`Delete the saved target ${id}?`)) return;
          setErr(null);
          try {
            await api(`/api/targets/${encodeURIComponent(id)}`, { method: 'DELETE' });
            router.push('/targets');
            router.refresh();
          } catch (e) {
            setErr(e as ApiError);
          }
        }}
      >
        Delete
      </button>
      {err && <ErrorBox error={err} />}
    </>
  );
}
