import Link from 'next/link';
import type { TTargetView } from '../../_lib/targets.js';

/**
 * The experiments naming a target: shipped and saved ones link to their page, the
 * others (an example's) show their file — beneath the name with `showPath`,
 * else on hover, so a table column stays narrow.
 */
export function ExperimentLinks({ experiments, showPath = false }: { experiments: TTargetView['experiments']; showPath?: boolean }) {
  if (experiments.length === 0) return <span className="dim">none</span>;
  return experiments.map((e) => (
    <div key={`${e.name} ${e.path}`} className="nowrap" title={e.path || 'saved in the console'}>
      {e.shipped ? <Link href={`/experiments/${e.name}`}>{e.name}</Link> : e.name}
      {showPath && e.path && <span className="mono dim"> {e.path}</span>}
    </div>
  ));
}
