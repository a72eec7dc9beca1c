import Link from 'next/link';

export default function NotFound() {
  return (
    <div className="login">
      <div className="panel" style={{ width: 360, textAlign: 'center' }}>
        <h1>Not found</h1>
        <p className="muted">No such page, experiment or run.</p>
        <Link href="/">Back to the overview</Link>
      </div>
    </div>
  );
}
