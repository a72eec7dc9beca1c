/**
 * k6 execution segments, reimplemented from k6's semantics
 * (grafana/k6 lib/execution_segment.go; behaviour checked against its tests):
 *
 *   --execution-segment a:b            this instance's share (a, b] of the work
 *   --execution-segment-sequence 0,a,b,…,1   every instance's segment, so that
 *                                      each can compute its own stripe alone
 *
 *   sequence ──fill gaps to 0 and 1──▶ lcd of the segment lengths
 *            ──striping──▶ per segment: the global indices it owns in each
 *                          block of lcd (start + repeating offsets)
 *
 * Arrival-rate iteration i (0-based, of the unsegmented schedule) belongs to
 * exactly one segment, so the segments of a sequence sum to the whole run.
 * VU counts are split the same way (`scaleInt`, k6's ExecutionTuple.ScaleInt64):
 * the per-segment values of any integer always add up to it.
 *
 * Numbers are exact rationals (bigint), as k6 uses big.Rat: thirds never lose a VU.
 * Pure; no I/O.
 */
import { AppError } from '../core/errors.js';

/** An exact non-negative rational, normalised (gcd 1, d > 0). */
export interface TRat {
  n: bigint;
  d: bigint;
}

/** (from, to] with 0 ≤ from < to ≤ 1. */
export interface TExecutionSegment {
  from: TRat;
  to: TRat;
}

/** A segment within its (gap-filled) sequence, with its stripe precomputed. */
export interface TExecutionTuple {
  /** The full sequence from 0 to 1 (gaps before/after the given one are filled, as k6 does). */
  sequence: TExecutionSegment[];
  /** Position of this instance's segment in `sequence`. */
  index: number;
  /** Least common denominator of the segments' lengths: the stripe repeats every `lcd` indices. */
  lcd: number;
  /** First global index (0-based) this segment owns. */
  start: number;
  /** Distances to each next owned index; the last wraps to `start` of the next block (sum = lcd). */
  offsets: number[];
}

/** Largest stripe block we compute (k6 has no bound; a huge lcd would hang the run). */
const MAX_LCD = 10_000_000;

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b) [a, b] = [b, a % b];
  return a;
}

export function rat(n: bigint | number, d: bigint | number = 1n): TRat {
  let nn = BigInt(n);
  let dd = BigInt(d);
  if (dd === 0n) throw new Error('zero denominator');
  if (dd < 0n) [nn, dd] = [-nn, -dd];
  const g = gcd(nn, dd) || 1n;
  return { n: nn / g, d: dd / g };
}

const cmp = (a: TRat, b: TRat): number => {
  const l = a.n * b.d;
  const r = b.n * a.d;
  return l < r ? -1 : l > r ? 1 : 0;
};
const sub = (a: TRat, b: TRat): TRat => rat(a.n * b.d - b.n * a.d, a.d * b.d);
const ZERO = rat(0);
const ONE = rat(1);

/** k6's RatString: "1/2", "3", "0". */
export function formatRat(r: TRat): string {
  return r.d === 1n ? String(r.n) : `${r.n}/${r.d}`;
}

function fail(field: string, message: string): never {
  throw new AppError('VALIDATION', `invalid ${field}`, { issues: [{ path: field, message }] });
}

/**
 * One value as k6 accepts it: a whole percentage (`25%`, k6 parses the digits
 * as an integer, so `12.5%` is rejected as k6 rejects it), a decimal (`0.25`,
 * `.25`, `2.5e-1`) or a fraction (`1/4`).
 */
export function parseRat(text: string, field = 'execution-segment'): TRat {
  const s = text.trim();
  let m = /^([+-]?\d+)%$/.exec(s);
  if (m) return rat(BigInt(m[1]), 100n);
  if (s.endsWith('%')) fail(field, `'${s}' is not a valid percentage (whole percentages only, as in k6)`);
  m = /^([+-]?\d+)\/(\d+)$/.exec(s);
  if (m) {
    if (BigInt(m[2]) === 0n) fail(field, `'${s}' has a zero denominator`);
    return rat(BigInt(m[1]), BigInt(m[2]));
  }
  m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (m && (m[2] || m[3])) {
    const frac = m[3] ?? '';
    let n = BigInt((m[2] || '0') + frac);
    let d = 10n ** BigInt(frac.length);
    const exp = Number(m[4] ?? 0);
    if (Math.abs(exp) > 30) fail(field, `'${s}': exponent out of range`);
    if (exp > 0) n *= 10n ** BigInt(exp);
    else if (exp < 0) d *= 10n ** BigInt(-exp);
    return rat(m[1] === '-' ? -n : n, d);
  }
  fail(field, `'${s}' is not a valid percentage, decimal, fraction or interval value`);
}

function newSegment(from: TRat, to: TRat, field: string): TExecutionSegment {
  if (cmp(from, ZERO) < 0) fail(field, `segment start value should be at least 0 but was ${formatRat(from)}`);
  if (cmp(from, to) >= 0) fail(field, `segment start (${formatRat(from)}) should be less than its end (${formatRat(to)})`);
  if (cmp(to, ONE) > 0) fail(field, `segment end value shouldn't be more than 1 but was ${formatRat(to)}`);
  return { from, to };
}

/**
 * `--execution-segment`: `a:b` is (a, b]; a single value `v` is (0, v]
 * (k6's shortcut for a scaled-down run); empty is the whole run.
 */
export function parseSegment(text: string, field = 'execution-segment'): TExecutionSegment {
  const s = text.trim();
  if (s === '') return { from: ZERO, to: ONE };
  const colon = s.indexOf(':');
  if (colon === -1) return newSegment(ZERO, parseRat(s, field), field);
  return newSegment(parseRat(s.slice(0, colon), field), parseRat(s.slice(colon + 1), field), field);
}

/**
 * `--execution-segment-sequence r1,r2,…,rn` = (r1,r2], (r2,r3], …; at least
 * two points, strictly increasing within [0, 1]. Empty → undefined (no sequence).
 */
export function parseSegmentSequence(text: string, field = 'execution-segment-sequence'): TExecutionSegment[] | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  const points = s.split(',').map((p) => parseRat(p, field));
  if (points.length < 2) fail(field, `at least 2 points are needed for an execution segment sequence, ${points.length} given`);
  const out: TExecutionSegment[] = [];
  for (let i = 1; i < points.length; i++) out.push(newSegment(points[i - 1], points[i], field));
  return out;
}

export function formatSegment(s: TExecutionSegment): string {
  return `${formatRat(s.from)}:${formatRat(s.to)}`;
}

/** k6's sequence string: "start1,end1,end2,…". */
export function formatSequence(seq: TExecutionSegment[]): string {
  return seq.length ? [formatRat(seq[0].from), ...seq.map((s) => formatRat(s.to))].join(',') : '';
}

/** n equal consecutive segments of the whole run (k6's Split). */
export function splitEvenly(n: number): TExecutionSegment[] {
  if (!Number.isInteger(n) || n < 1) fail('segments', `the number of parts should be a whole number of at least 1, ${n} received`);
  return Array.from({ length: n }, (_, i) => ({ from: rat(i, n), to: rat(i + 1, n) }));
}

/** k6's Scale (round(v·to) − round(v·from), halves up): not stable across values; k6 uses scaleInt for VUs. */
export function segmentScale(s: TExecutionSegment, value: number): number {
  const roundHalfUp = (n: bigint, d: bigint) => {
    const q = n / d;
    return (n % d) * 2n >= d ? q + 1n : q;
  };
  const v = BigInt(value);
  const fromR = roundHalfUp(v * s.from.n, s.from.d);
  return Number(roundHalfUp(v * s.to.n - fromR * s.to.d, s.to.d));
}

function sameSegment(a: TExecutionSegment, b: TExecutionSegment): boolean {
  return cmp(a.from, b.from) === 0 && cmp(a.to, b.to) === 0;
}

/**
 * k6's NewExecutionTuple: the segment within its sequence (default: the
 * segment alone, gaps filled), with the stripe of global indices it owns.
 */
export function executionTuple(segment?: TExecutionSegment, sequence?: TExecutionSegment[]): TExecutionTuple {
  const seg = segment ?? { from: ZERO, to: ONE };
  const seq = sequence?.length ? [...sequence] : [seg];
  for (let i = 1; i < seq.length; i++)
    if (cmp(seq[i].from, seq[i - 1].to) !== 0)
      fail(
        'execution-segment-sequence',
        `the start value ${formatRat(seq[i].from)} of segment #${i} should be equal to the end value of the previous one, but it is ${formatRat(seq[i - 1].to)}`,
      );
  if (cmp(seq[0].from, ZERO) !== 0) seq.unshift({ from: ZERO, to: seq[0].from });
  if (cmp(seq[seq.length - 1].to, ONE) !== 0) seq.push({ from: seq[seq.length - 1].to, to: ONE });
  const index = seq.findIndex((s) => sameSegment(s, seg));
  if (index === -1) fail('execution-segment', `segment ${formatSegment(seg)} is not part of the sequence ${formatSequence(seq)}`);

  const lengths = seq.map((s) => sub(s.to, s.from));
  let lcdBig = 1n;
  for (const l of lengths) lcdBig = (lcdBig / gcd(lcdBig, l.d)) * l.d;
  if (lcdBig > BigInt(MAX_LCD))
    fail('execution-segment-sequence', `the segments' common denominator ${lcdBig} is too large (at most ${MAX_LCD}); use simpler fractions`);
  const lcd = Number(lcdBig);
  const owned = stripe(
    lengths.map((l) => Number(l.n * (lcdBig / l.d))),
    lcd,
  )[index];
  const offsets = owned.map((p, i) => (i + 1 < owned.length ? owned[i + 1] : owned[0] + lcd) - p);
  return { sequence: seq, index, lcd, start: owned[0], offsets };
}

/**
 * k6's striping: the indices 0..lcd−1 are dealt out so that each segment
 * (with share k/lcd) gets k of them, spread as evenly as possible. Segments
 * are served largest share first (stable for ties): index i goes to the first
 * segment whose next due position c·lcd/k (c = indices taken so far) is ≤ i.
 * Every index is taken because the shares sum to lcd.
 */
function stripe(shares: number[], lcd: number): number[][] {
  const order = shares.map((k, i) => ({ k, i })).sort((a, b) => b.k - a.k);
  const taken = new Array<number>(order.length).fill(0);
  const out = shares.map(() => [] as number[]);
  for (let i = 0; i < lcd; i++) {
    for (let j = 0; j < order.length; j++) {
      if (i * order[j].k >= taken[j] * lcd) {
        taken[j]++;
        out[order[j].i].push(i);
        break;
      }
    }
  }
  return out;
}

/** k6's ExecutionTuple.ScaleInt64: this segment's share of `value` (shares of all segments add up to it). */
export function scaleInt(t: TExecutionTuple, value: number): number {
  if (t.sequence.length === 1) return value;
  const whole = Math.floor(value / t.lcd) * t.offsets.length;
  const rest = value % t.lcd;
  let n = 0;
  for (let i = t.start, g = 0; i < rest; i += t.offsets[g++]) n++;
  return whole + n;
}

/** The global 0-based indices this segment owns, ascending, without end. */
export function* stripedIndices(t: TExecutionTuple): Generator<number> {
  let i = t.start;
  for (let g = 0; ; g = (g + 1) % t.offsets.length) {
    yield i;
    i += t.offsets[g];
  }
}

/** The tuple of segment `i` of `n` equal segments. */
export function evenTuple(i: number, n: number): TExecutionTuple {
  const seq = splitEvenly(n);
  if (!Number.isInteger(i) || i < 0 || i >= n) fail('segment', `segment index ${i} is outside 0..${n - 1}`);
  return executionTuple(seq[i], seq);
}

/** How a segment is named across process/thread boundaries: k6's two flag values. */
export interface TSegmentSpec {
  /** `--execution-segment` value, e.g. "1/4:1/2". */
  segment: string;
  /**
   * `--execution-segment-sequence` value, e.g. "0,1/4,1/2,3/4,1".
   * @defaultValue the segment alone (gaps filled), as in k6
   */
  sequence?: string;
}

/** The spec of segment `i` of `n` equal segments. */
export function evenSegmentSpec(i: number, n: number): TSegmentSpec {
  const seq = splitEvenly(n);
  return { segment: formatSegment(seq[i]), sequence: formatSequence(seq) };
}

export function tupleOf(spec: TSegmentSpec | undefined): TExecutionTuple {
  if (!spec) return executionTuple();
  return executionTuple(parseSegment(spec.segment), spec.sequence !== undefined ? parseSegmentSequence(spec.sequence) : undefined);
}

/** k6 CLI flags for a segment spec. */
export function segmentFlags(spec: TSegmentSpec): string[] {
  return ['--execution-segment', spec.segment, ...(spec.sequence ? ['--execution-segment-sequence', spec.sequence] : [])];
}
