/**
 * A target's `entry.setup`: requests made once before the load (a login, say),
 * whose response values are captured into variables that the entry headers
 * and the scenario's requests use as `${name}` — k6's `setup()`: run once, its
 * data handed to every VU. The runner fills the captured values into the
 * run's scenario before the load starts, so a load split into segments hands
 * the same values to every segment without running setup again.
 *
 *   step 0 ─▶ HTTP ─▶ expect_status? ─▶ capture $.path ─▶ vars
 *   step 1 (may use step 0's vars) ─▶ …
 *   entry.headers + scenario requests (path, headers, body) ◀─ vars
 *
 * A step that fails (no answer, an unexpected status) or a capture path the
 * response does not have is an AppError naming the step and the field.
 */
import { AppError } from '../../core/errors.js';
import type { TScenario } from '../../loadtests/index.js';
import type { TTarget } from '../../targets/index.js';

/** Captured values by name. */
export type TSetupVars = Readonly<Record<string, string>>;

const REF = /\$\{([A-Za-z_]\w*)\}/g;

/** `${name}` of each captured name replaced by its value; anything else (generated values, `${uuid}`) left as it is. */
export function fillVars(text: string, vars: TSetupVars): string {
  return text.replace(REF, (m, name: string) => (Object.hasOwn(vars, name) ? vars[name]! : m));
}

function fillDeep(v: unknown, vars: TSetupVars): unknown {
  if (typeof v === 'string') return fillVars(v, vars);
  if (Array.isArray(v)) return v.map((x) => fillDeep(x, vars));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fillDeep(x, vars)]));
  return v;
}

function fillHeaders(h: Readonly<Record<string, string>>, vars: TSetupVars): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, fillVars(v, vars)]));
}

/** The value at a JSON path (`$.token`, `$.data.items[0].id`); undefined when the path is not there. */
function atPath(value: unknown, jsonPath: string): unknown {
  let cur: unknown = value;
  for (const m of jsonPath.slice(1).matchAll(/\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]/g)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = m[1] !== undefined ? (cur as Record<string, unknown>)[m[1]] : (cur as unknown[])[Number(m[2])];
  }
  return cur;
}

/**
 * Run the target's setup steps in order against its entry URL; the captured
 * values (empty without setup). Each step may use the values captured before it.
 */
export async function runEntrySetup(t: TTarget, o: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<TSetupVars> {
  const vars: Record<string, string> = {};
  const base = t.entry.url.replace(/\/+$/, '');
  for (const [i, step] of t.entry.setup.entries()) {
    const field = `entry.setup.${i}`;
    const what = `setup step "${step.name}" (${field})`;
    const url = `${base}${fillVars(step.path, vars)}`;
    const headers = fillHeaders(step.headers, vars);
    const hasBody = step.body !== undefined;
    if (hasBody && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    let status: number;
    let text: string;
    try {
      const signals = [AbortSignal.timeout(o.timeoutMs ?? 10_000), ...(o.signal ? [o.signal] : [])];
      const r = await fetch(url, {
        method: step.method,
        headers,
        signal: AbortSignal.any(signals),
        ...(hasBody ? { body: typeof step.body === 'string' ? fillVars(step.body, vars) : JSON.stringify(fillDeep(step.body, vars)) } : {}),
      });
      status = r.status;
      text = await r.text();
    } catch (e) {
      const err = e as { name?: string; cause?: { code?: string } };
      const why = err.name === 'TimeoutError' ? 'no answer in time' : (err.cause?.code ?? (e as Error).message);
      throw new AppError('UNAVAILABLE', `${what}: ${step.method} ${url} failed: ${why}`, { issues: [{ path: field, message: why }] });
    }
    if (!step.expect_status.includes(status)) {
      const message = `${step.method} ${url} answered HTTP ${status} (expected ${step.expect_status.join(', ')}): ${text.slice(0, 200)}`;
      throw new AppError('UNAVAILABLE', `${what}: ${message}`, { issues: [{ path: `${field}.expect_status`, message }] });
    }
    const captures = Object.entries(step.capture);
    if (!captures.length) continue;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      const message = `the response is not JSON (${text.slice(0, 80)}), nothing to capture`;
      throw new AppError('UNAVAILABLE', `${what}: ${message}`, { issues: [{ path: `${field}.capture`, message }] });
    }
    for (const [name, jsonPath] of captures) {
      const v = atPath(json, jsonPath);
      if (v === undefined || v === null || typeof v === 'object') {
        const keys = json && typeof json === 'object' ? Object.keys(json).join(', ') : typeof json;
        const message = `${jsonPath} is ${v === undefined || v === null ? 'not in' : 'not a single value in'} the response (its fields: ${keys || 'none'})`;
        throw new AppError('UNAVAILABLE', `${what}: capture ${name} (${field}.capture.${name}): ${message}`, {
          issues: [{ path: `${field}.capture.${name}`, message }],
        });
      }
      vars[name] = String(v);
    }
  }
  return vars;
}

/** The entry headers with the captured values filled in. */
export function entryHeaders(t: TTarget, vars: TSetupVars): Record<string, string> {
  return fillHeaders(t.entry.headers, vars);
}

/** The scenario's plain-HTTP requests with the captured values filled in (a new scenario). */
export function fillScenarioVars(s: TScenario, vars: TSetupVars): TScenario {
  if (!s.requests || Object.keys(vars).length === 0) return s;
  const requests = s.requests.map((r) => ({
    ...r,
    path: fillVars(r.path, vars),
    headers: fillHeaders(r.headers, vars),
    ...(r.body === undefined ? {} : { body: fillDeep(r.body, vars) }),
  }));
  return { ...s, requests };
}
