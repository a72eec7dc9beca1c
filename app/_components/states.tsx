/** Empty, loading and error states shared by every page. */
import type { TApiIssue } from './api.js';

export function Empty({ children }: { children: React.ReactNode }) {
  return <div className="empty">{children}</div>;
}

export function Loading({ what }: { what: string }) {
  return <div className="loading">Loading {what}</div>;
}

export function ErrorBox({ error }: { error: { message: string; issues?: TApiIssue[] } | string | null | undefined }) {
  if (!error) return null;
  const e = typeof error === 'string' ? { message: error, issues: [] } : error;
  return (
    <div className="errbox" role="alert">
      {e.message}
      {e.issues && e.issues.length > 0 && (
        <ul>
          {e.issues.map((i, k) => (
            <li key={k}>
              {i.line ? `line ${i.line}: ` : ''}
              <code>{i.path || '(root)'}</code>: {i.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
