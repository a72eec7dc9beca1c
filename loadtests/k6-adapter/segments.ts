/**
 * k6 as the engine over N processes: one k6 per execution segment, one
 * setup, one merged result.
 *
 *   faultline: setup once (runSetup) ─▶ setup-data.json
 *   k6 #i: k6 run --execution-segment i/N:(i+1)/N --execution-segment-sequence 0,1/N,…,1
 *                -e FAULTLINE_SETUP_DATA=setup-data.json --out json=points-i.jsonl …
 *   each instance's points ─▶ raw metrics + per-second histograms
 *   ─▶ mergeLoadResults: one summary, thresholds judged once, one history
 *
 * k6 has no flag to skip setup(): every instance still calls it, and the
 * shipped scripts (loadtests/k6/lib/shop.js) return the handed data instead
 * of registering users. A custom script must do the same with
 * `__ENV.FAULTLINE_SETUP_DATA` (see loadtests/README.md).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isAppError } from '../../core/errors.js';
import { k6SetupData, runSetup } from '../engine/engine.js';
import { mergeLoadResults, SecondMerger } from '../merge.js';
import type { TScenario } from '../scenario.js';
import { evenSegmentSpec } from '../segments.js';
import type { TLoadResult } from '../types.js';
import { runK6, type TRunK6Options } from './run.js';

export interface TRunK6SegmentsOptions extends Omit<TRunK6Options, 'segment' | 'setupDataFile' | 'mergeable'> {
  /** Number of k6 processes, each running one of N equal segments. */
  segments: number;
  /**
   * Run setup once here and hand its data to every instance. Off: every
   * instance runs its own setup (k6's default behaviour).
   * @defaultValue true
   */
  sharedSetup?: boolean;
}

export async function runK6Segments(s: TScenario, opts: TRunK6SegmentsOptions): Promise<TLoadResult> {
  const n = opts.segments;
  const dir = await mkdtemp(path.join(tmpdir(), 'faultline-k6seg-'));
  // one failing instance stops the others: a partial run has no honest verdict
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let setupDataFile: string | undefined;
    if (opts.sharedSetup ?? true) {
      const data = await runSetup(s, { baseUrl: opts.baseUrl, signal: stop.signal, onHistory: opts.onHistory });
      setupDataFile = path.join(dir, 'setup-data.json');
      await writeFile(setupDataFile, JSON.stringify(k6SetupData(data, `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`)));
    }
    const merger = opts.onSecond ? new SecondMerger(n, opts.onSecond) : undefined;
    let firstError: { e: unknown } | undefined;
    const settled = await Promise.allSettled(
      Array.from({ length: n }, (_, i) =>
        runK6(s, {
          ...opts,
          signal: stop.signal,
          segment: evenSegmentSpec(i, n),
          setupDataFile,
          mergeable: true,
          onSecond: merger ? (sec) => merger.push(i, sec) : undefined,
        }).catch((e: unknown) => {
          // the first failure is the cause; the others were stopped because of it
          firstError ??= { e };
          stop.abort();
          throw e;
        }),
      ),
    );
    merger?.flush();
    if (firstError) {
      const e = firstError.e;
      throw isAppError(e) ? e : new Error(`k6 instance failed: ${(e as Error)?.message ?? String(e)}`);
    }
    const parts = settled.map((r) => (r as PromiseFulfilledResult<TLoadResult>).value);
    return mergeLoadResults(s, parts);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await rm(dir, { recursive: true, force: true });
  }
}
