'use client';
/** A page that failed to render shows what failed and a retry, never a stack. */
export default function ConsoleError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <section className="panel">
      <div className="errbox" role="alert">
        This page could not be shown: {error.message || 'server error'}
        {error.digest ? <span className="dim"> (ref {error.digest})</span> : null}
      </div>
      <div className="under-progress">
        <button onClick={reset}>Retry</button>
      </div>
    </section>
  );
}
