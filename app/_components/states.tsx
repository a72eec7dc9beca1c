/** Empty, loading and error states shared by every page. */
import type { TApiIssue } from './api.js';

/** What a panel shows when it has nothing to show, saying why or what to do. */
export function EmptyState({ children, testId }: { children: React.ReactNode; testId?: string }) {
  return (
    <div className="empty" data-testid={testId}>
      {children}
    </div>
  );
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
