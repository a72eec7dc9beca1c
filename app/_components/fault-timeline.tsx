/**
 * A readable timeline of an experiment: load span on top, one lane per fault
 * (offset and duration on a common axis), quiescence after the load.
 */
import type { TExperiment } from '../../experiments/index.js';
import { dur, paramsLabel, targetLabel } from './format.js';

export function FaultTimeline({ e }: { e: TExperiment }) {
  const faultEnd = Math.max(0, ...e.faults.map((f) => f.at + f.duration));
  const load = e.load.duration ?? faultEnd;
  const total = Math.max(load, faultEnd) + e.quiescence;
  const pct = (ms: number) => `${(ms / total) * 100}%`;
  const ticks = 6;
  return (
    <div className="timeline" data-testid="fault-timeline">
      <div className="tl-row">
        <div className="tl-bar tl-load" style={{ left: 0, width: pct(load) }}>
          load · {e.load.scenario}
          {e.load.rate ? ` · ${e.load.rate} req/s` : ''} · {dur(load)}
        </div>
        <div className="tl-bar tl-settle" style={{ left: pct(load), width: pct(e.quiescence) }}>
          quiescence {dur(e.quiescence)}
        </div>
      </div>
      {e.faults.length === 0 && <div className="dim tl-note">no faults: a baseline run</div>}
      {e.faults.map((f) => (
        <div className="tl-row" key={f.name}>
          <div
            className="tl-bar"
            style={{ left: pct(f.at), width: pct(f.duration) }}
            title={`${f.fault.type} ${targetLabel((f.fault as { target?: unknown }).target)} ${paramsLabel((f.fault as { params?: unknown }).params)}`}
          >
            {f.name} · {f.fault.type} {targetLabel((f.fault as { target?: unknown }).target)} · {dur(f.at)}→{dur(f.at + f.duration)}
          </div>
        </div>
      ))}
      <div className="tl-axis">
        {Array.from({ length: ticks + 1 }, (_, i) => (
          <span key={i}>{dur((total * i) / ticks)}</span>
        ))}
      </div>
    </div>
  );
}
