/**
 * Prometheus SLO rules from faultline's SLO definitions, after the SRE
 * Workbook's multi-window, multi-burn-rate alerts (ch. 5; sloth's
 * `google-30d` windows):
 *
 *   SLI error ratio  ──recorded over──▶ 5m 30m 1h 2h 6h 1d 3d 30d
 *   page   : 1h AND 5m  > 14.4 × budget   OR   6h AND 30m > 6 × budget
 *   ticket : 3d AND 6h  >  1   × budget
 *
 * Pure: SLO definitions in, a rules file object out (serialised with yaml).
 */

/** One SLO as faultline understands it, reduced to what Prometheus needs. */
export interface TSloRuleInput {
  /** Stable id, unique across the file (e.g. `checkout-availability`). */
  id: string;
  /** The shop service whose server histogram measures the SLI. @defaultValue 'gateway' */
  service?: string;
  /** `METHOD /route/pattern`, as in the `method` and `route` labels. */
  route: string;
  sli: 'availability' | 'latency';
  /** Latency threshold in ms (latency SLIs); must be a histogram bucket boundary. */
  thresholdMs?: number;
  /** Objective in percent, e.g. 99.9. */
  objective: number;
  /** SLO period, e.g. `30d`. Burn-rate factors assume 30d (see reference). */
  window?: string;
  description?: string;
}

export interface TRule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface TRuleGroup {
  name: string;
  interval?: string;
  rules: TRule[];
}

export const SLI_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d', '30d'] as const;

/** Burn-rate alert pairs (SRE Workbook, 30-day period). */
export const BURN_ALERTS = [
  { severity: 'page', long: '1h', short: '5m', factor: 14.4 },
  { severity: 'page', long: '6h', short: '30m', factor: 6 },
  { severity: 'ticket', long: '3d', short: '6h', factor: 1 },
] as const;

const METRIC = 'http_server_request_duration_seconds';

function splitRoute(route: string): { method: string; path: string } {
  const m = /^([A-Z]+)\s+(\S+)$/.exec(route.trim());
  if (!m) throw new Error(`route must look like "POST /checkout": ${route}`);
  return { method: m[1], path: m[2] };
}

function promString(s: string): string {
  return JSON.stringify(s);
}

/** Format a bucket boundary the way prom-client writes the `le` label. */
export function leLabel(thresholdMs: number): string {
  return String(thresholdMs / 1000);
}

/** PromQL for the error ratio of one SLO over a window. */
export function errorRatioExpr(slo: TSloRuleInput, window: string): string {
  const { method, path } = splitRoute(slo.route);
  const sel = `service=${promString(slo.service ?? 'gateway')},route=${promString(path)},method=${promString(method)}`;
  const total = `sum(rate(${METRIC}_count{${sel}}[${window}]))`;
  if (slo.sli === 'availability') {
    return `(sum(rate(${METRIC}_count{${sel},status=~"5.."}[${window}])) or vector(0)) / ${total}`;
  }
  if (slo.thresholdMs === undefined) throw new Error(`SLO ${slo.id}: latency SLI needs thresholdMs`);
  const good = `sum(rate(${METRIC}_bucket{${sel},le=${promString(leLabel(slo.thresholdMs))}}[${window}]))`;
  return `(${total} - ${good}) / ${total}`;
}

/** Recording rules and burn-rate alerts for every SLO, one group pair per SLO. */
export function buildSloRules(slos: TSloRuleInput[]): { groups: TRuleGroup[] } {
  const ids = new Set<string>();
  const groups: TRuleGroup[] = [];
  for (const slo of slos) {
    if (ids.has(slo.id)) throw new Error(`duplicate SLO id: ${slo.id}`);
    ids.add(slo.id);
    if (!(slo.objective > 0 && slo.objective < 100)) throw new Error(`SLO ${slo.id}: objective must be in (0, 100)`);
    const labels = { slo_id: slo.id, slo_service: slo.service ?? 'gateway', slo_route: slo.route, slo_sli: slo.sli };
    const budget = Number((1 - slo.objective / 100).toPrecision(12));
    const sel = `{slo_id=${promString(slo.id)}}`;
    groups.push({
      name: `faultline-slo-sli-recordings-${slo.id}`,
      rules: [
        ...SLI_WINDOWS.map((w) => ({ record: `slo:sli_error:ratio_rate${w}`, expr: errorRatioExpr(slo, w), labels })),
        { record: 'slo:objective:ratio', expr: `vector(${slo.objective / 100})`, labels },
        { record: 'slo:error_budget:ratio', expr: `vector(${budget})`, labels },
        { record: 'slo:current_burn_rate:ratio', expr: `slo:sli_error:ratio_rate5m${sel} / ${budget}`, labels },
        { record: 'slo:period_error_budget_remaining:ratio', expr: `1 - slo:sli_error:ratio_rate30d${sel} / ${budget}`, labels },
      ],
    });
    const alerts: TRule[] = [];
    for (const severity of ['page', 'ticket'] as const) {
      const pairs = BURN_ALERTS.filter((a) => a.severity === severity);
      const expr = pairs
        .map((p) => {
          const thr = Number((p.factor * budget).toPrecision(12));
          return `(slo:sli_error:ratio_rate${p.long}${sel} > ${thr} and slo:sli_error:ratio_rate${p.short}${sel} > ${thr})`;
        })
        .join('\nor\n');
      alerts.push({
        alert: 'FaultlineSLOErrorBudgetBurn',
        expr,
        labels: { ...labels, severity },
        annotations: {
          summary: `${slo.route} ${slo.sli} SLO (${slo.objective}%) is burning its error budget too fast`,
          description:
            severity === 'page'
              ? `Burn rate over ${pairs.map((p) => `${p.factor}x (${p.long}/${p.short})`).join(' or ')}: at this rate the ${slo.window ?? '30d'} budget is gone in days.`
              : `Burn rate over ${pairs.map((p) => `${p.factor}x (${p.long}/${p.short})`).join(' or ')}: the budget will not last the period.`,
          ...(slo.description ? { slo: slo.description } : {}),
        },
      });
    }
    groups.push({ name: `faultline-slo-alerts-${slo.id}`, rules: alerts });
  }
  return { groups };
}

/** An experiment's SLO as written in its file (experiments/schema.ts SloSchema, reduced). */
export interface TExperimentSlo {
  name: string;
  route: string;
  sli: 'availability' | 'latency';
  threshold_ms?: number;
  objective: number;
  window: number;
}

/**
 * Turn the SLOs of many experiments into rule inputs. The same SLO name with
 * the same definition in several experiments becomes one rule set; a name
 * reused with another definition gets the experiment name as a prefix. A
 * latency threshold between histogram buckets is rounded down to the
 * nearest boundary (stricter, never more lenient) and reported.
 */
export function slosFromExperiments(
  experiments: { name: string; steady_state: { slos: TExperimentSlo[] } }[],
  bucketsSeconds: readonly number[],
): { slos: TSloRuleInput[]; notes: string[] } {
  const byId = new Map<string, { key: string; slo: TSloRuleInput }>();
  const notes: string[] = [];
  const boundariesMs = [...bucketsSeconds].map((b) => Math.round(b * 1_000_000) / 1000).sort((a, b) => a - b);
  for (const e of experiments) {
    for (const s of e.steady_state.slos) {
      let thresholdMs = s.threshold_ms;
      if (s.sli === 'latency' && thresholdMs !== undefined && !boundariesMs.includes(thresholdMs)) {
        const below = boundariesMs.filter((b) => b <= thresholdMs!).pop();
        if (below === undefined)
          throw new Error(`${e.name}/${s.name}: threshold_ms ${thresholdMs} is below the smallest histogram bucket (${boundariesMs[0]} ms)`);
        notes.push(`${e.name}/${s.name}: threshold ${thresholdMs} ms is not a histogram bucket; the rule uses ${below} ms (stricter)`);
        thresholdMs = below;
      }
      const days = Math.round(s.window / 86_400_000);
      const slo: TSloRuleInput = {
        id: s.name,
        route: s.route,
        sli: s.sli,
        ...(thresholdMs !== undefined ? { thresholdMs } : {}),
        objective: s.objective,
        window: days >= 1 ? `${days}d` : `${Math.round(s.window / 3_600_000)}h`,
        description: `from experiment ${e.name}`,
      };
      const key = JSON.stringify([slo.route, slo.sli, slo.thresholdMs, slo.objective, slo.window]);
      const existing = byId.get(s.name);
      if (!existing) byId.set(s.name, { key, slo });
      else if (existing.key !== key) {
        const id = `${e.name}-${s.name}`;
        byId.set(id, { key, slo: { ...slo, id } });
      }
    }
  }
  return { slos: [...byId.values()].map((v) => v.slo), notes };
}
