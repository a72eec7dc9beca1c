import { Overview } from './overview.js';

export default function OverviewPage() {
  return (
    <>
      <h1>Overview</h1>
      <Overview />
    </>
  );
}
