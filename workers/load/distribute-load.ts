/**
 * The coordinator side of a split load: one setup here, N segment jobs on
 * the platform's `load` queue (any worker with the same Redis and prefix
 * takes them), one agreed start once every segment has warmed up, the
 * segments' seconds merged live and their results merged exactly at the end
 * (loadtests' SecondMerger / mergeLoadResults), so the caller gets one
 * TLoadResult as from runLoad.
 *
 *   runSetup ─▶ enqueue load.segment@v1 × N ─▶ read up-stream ─┬─ taken / heartbeat: segment alive
 *                                                              ├─ all ready ─▶ down: start {at = now + startDelayMs}
 *                                                              ├─ second ─▶ SecondMerger ─▶ onSecond (merged)
 *                                                              ├─ history ─▶ onHistory, kept per segment
 *                                                              └─ all done ─▶ mergeLoadResults ─▶ result
 *   lost: not taken within takeTimeoutMs, silent for heartbeatTimeoutMs, error message, job failed
 *     ─▶ down: abort, waiting jobs removed, AppError naming the segment
 *   signal ─▶ down: abort; the segments end (exit 105) and what they measured is merged
 *   alive key refreshed every heartbeat: a segment that finds it gone (the coordinator died) stops
 *
 * Segments start at one wall-clock time, so the workers' clocks must agree
 * (NTP) to well under a second; seconds are merged by wall-clock second.
 */
import type { Job } from 'bullmq';
import { AppError, toAppError } from '../../core/errors.js';
import {
  mergeLoadResults,
  runSetup,
  SecondMerger,
  type THistoryEvent,
  type TLoadResult,
  type TLoadSecond,
  type TScenario,
  type TShopData,
} from '../../loadtests/index.js';
import { enqueueJob } from '../jobs/index.js';
import type { TPlatform } from '../platform.js';
import { aliveKey, downStream, entriesOf, FIELD, segmentName, STREAM_TTL_MS, upStream, type TSegmentDown, type TSegmentUp } from './messages.js';
import { loadSegmentJob } from './segment-job.js';

export interface TDistributeLoadOptions {
  /** Names the load's streams and jobs; a run's load uses the run id. */
  loadId: string;
  /** Equal execution segments, one job each (2..64; 1 works but is one remote generator). */
  segments: number;
  /** Shop gateway URL. */
  baseUrl: string;
  /** Each merged second (every segment's part of it, or what there is at the end), with each segment's own second. */
  onSecond?: (s: TLoadSecond, parts: { index: number; second: TLoadSecond }[]) => void;
  /** Each history event as it arrives (setup's here, the segments' in batches). */
  onHistory?: (e: THistoryEvent) => void;
  /** The agreed start (epoch ms), once every segment has warmed up. */
  onStart?: (t: number) => void;
  /** Stop every segment (k6 exit status 105); what they measured is still merged. */
  signal?: AbortSignal;
  /**
   * A segment whose worker has said nothing for this long is lost.
   * @defaultValue 10000
   */
  heartbeatTimeoutMs?: number;
  /**
   * A segment no worker has taken (or warmed up) for this long is lost: no worker on this prefix has room.
   * @defaultValue 60000
   */
  takeTimeoutMs?: number;
  /**
   * The agreed start is this far after the last segment is ready (the message has to reach every worker).
   * @defaultValue 1000
   */
  startDelayMs?: number;
  /** @defaultValue true */
  history?: boolean;
  /** Progress of the segments (console / CLI): called on every state change. */
  onSegments?: (s: TSegmentState[]) => void;
}

export interface TSegmentState {
  index: number;
  state: 'queued' | 'taken' | 'ready' | 'running' | 'done' | 'failed';
  worker?: string;
  /** Seconds received. */
  seconds: number;
  /** Why it failed (lost, refused, errored, or the load was aborted before it started). */
  reason?: string;
}

/** Run a scenario split over the workers of the platform's load queue; one merged result. */
export async function distributeLoad(p: TPlatform, scenario: TScenario, o: TDistributeLoadOptions): Promise<TLoadResult> {
  const n = o.segments;
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new AppError('VALIDATION', 'invalid segments', { issues: [{ path: 'segments', message: `${n}: a whole number from 1 to 64` }] });
  const heartbeatTimeoutMs = o.heartbeatTimeoutMs ?? 10_000;
  const takeTimeoutMs = o.takeTimeoutMs ?? 60_000;
  const heartbeatMs = Math.max(100, Math.min(1000, Math.floor(heartbeatTimeoutMs / 5)));
  const up = upStream(p.prefix, o.loadId);
  const down = downStream(p.prefix, o.loadId);
  const command = (m: TSegmentDown) => p.redis.xadd(down, '*', FIELD, JSON.stringify(m)).then(() => p.redis.pexpire(down, STREAM_TTL_MS));

  const setupData = await runSetup(scenario, { baseUrl: o.baseUrl, signal: o.signal, onHistory: o.history === false ? undefined : o.onHistory });
  if (o.signal?.aborted) throw new AppError('UNAVAILABLE', 'load aborted during setup');
  await p.redis.del(up, down);
  // the segments stop when this key is gone: a runner that dies must not leave its load running
  const alive = aliveKey(p.prefix, o.loadId);
  let aliveAt = Date.now();
  await p.redis.set(alive, '1', 'PX', heartbeatTimeoutMs);

  const states: TSegmentState[] = Array.from({ length: n }, (_, index) => ({ index, state: 'queued', seconds: 0 }));
  const lastHeard = Array.from({ length: n }, () => Date.now());
  const results: (TLoadResult | undefined)[] = Array.from({ length: n });
  const histories: THistoryEvent[][] = Array.from({ length: n }, () => []);
  const merger = new SecondMerger(n, (s, parts) =>
    o.onSecond?.(
      s,
      [...parts].map(([index, second]) => ({ index, second })),
    ),
  );
  const report = () => o.onSegments?.(states.map((s) => ({ ...s })));
  const progress: TSegmentsProgress = { n, states, results, histories, merger, report, onHistory: o.onHistory };

  const jobs = await enqueueSegments(p, scenario, o, { setupData, heartbeatMs, takeTimeoutMs, heartbeatTimeoutMs });
  report();

  const reader = p.newRedis();
  const stopAll = async (reason: string) => {
    await command({ type: 'abort', reason }).catch(() => undefined);
    // a job nobody took yet must not start a segment of a finished load
    await Promise.all(jobs.map((j) => j.remove().catch(() => undefined)));
  };
  let started = false;
  let abortSent = false;
  let lastJobCheck = Date.now();
  let last = '0';
  const fail = async (index: number, reason: string, code: 'UNAVAILABLE' | 'VALIDATION' = 'UNAVAILABLE') => {
    states[index].state = 'failed';
    states[index].reason = reason;
    report();
    await stopAll(reason);
    return new AppError(code, reason, { details: { segment: index } });
  };
  try {
    for (;;) {
      if (o.signal?.aborted && !abortSent) {
        // like runLoad: the segments stop (exit 105) and what they measured is still merged
        abortSent = true;
        await stopAll('load aborted');
        for (const s of states)
          if (s.state === 'queued') {
            s.state = 'failed';
            s.reason = 'load aborted before a worker took it';
          }
        report();
      }
      if (Date.now() - aliveAt >= heartbeatMs) {
        aliveAt = Date.now();
        await p.redis.set(alive, '1', 'PX', heartbeatTimeoutMs);
      }
      const answer = (await reader.xread('BLOCK', 500, 'STREAMS', up, last)) as [string, [string, string[]][]][] | null;
      const now = Date.now();
      for (const [id, m] of entriesOf<TSegmentUp>(answer)) {
        last = id;
        if (!(m.index >= 0 && m.index < n)) continue;
        lastHeard[m.index] = now;
        const failure = onSegmentMessage(m, progress);
        if (failure) throw await fail(failure.index, failure.reason, failure.code);
      }
      if (!started && !abortSent && states.every((s) => s.state === 'ready')) {
        started = true;
        const at = Date.now() + (o.startDelayMs ?? 1000);
        await command({ type: 'start', at });
        o.onStart?.(at);
      }
      if (states.every((s) => s.state === 'done' || s.state === 'failed')) break;
      const lost = lostSegment(states, lastHeard, now, { heartbeatTimeoutMs, takeTimeoutMs, started }, n);
      if (lost) throw await fail(lost.index, lost.reason);
      // BullMQ's view too: a job that failed without a word (its worker refused the payload, or stalled)
      if (now - lastJobCheck >= 2000) {
        lastJobCheck = now;
        const failed = await firstFailedJob(p, jobs, states);
        if (failed) throw await fail(failed.index, `${segmentName(failed.index, n)} failed: ${failed.reason}`);
      }
    }
  } catch (e) {
    if (!(e instanceof AppError)) await stopAll(`coordinator failed: ${toAppError(e).message}`);
    throw e;
  } finally {
    reader.disconnect();
    await p.redis.del(alive).catch(() => undefined);
    await p.redis.pexpire(up, STREAM_TTL_MS).catch(() => undefined);
    await p.redis.pexpire(down, STREAM_TTL_MS).catch(() => undefined);
  }
  merger.flush();
  const parts = results.filter((r): r is TLoadResult => r !== undefined);
  if (parts.length === 0) throw new AppError('UNAVAILABLE', 'load aborted before any segment started');
  const { raw: _raw, ...merged } = mergeLoadResults(scenario, parts);
  return merged;
}

/** One segment job per index on the load queue, all with the coordinator's one setup. */
async function enqueueSegments(
  p: TPlatform,
  scenario: TScenario,
  o: TDistributeLoadOptions,
  b: { setupData: TShopData; heartbeatMs: number; takeTimeoutMs: number; heartbeatTimeoutMs: number },
): Promise<Job[]> {
  const jobs: Job[] = [];
  for (let index = 0; index < o.segments; index++)
    jobs.push(
      await enqueueJob(
        p.loadQueue,
        loadSegmentJob,
        {
          loadId: o.loadId,
          index,
          count: o.segments,
          scenario,
          baseUrl: o.baseUrl,
          setupData: b.setupData,
          heartbeatMs: b.heartbeatMs,
          startWaitMs: b.takeTimeoutMs + 60_000,
          history: o.history ?? true,
          coordinatorTimeoutMs: b.heartbeatTimeoutMs,
        },
        // a segment cannot be resumed elsewhere: one attempt, and a stalled one fails
        { jobId: `load-${o.loadId}-${index}`, attempts: 1, removeOnComplete: { age: 3600 }, removeOnFail: { age: 86_400 } },
      ),
    );
  return jobs;
}

/** What the coordinator keeps per segment while the load runs. */
interface TSegmentsProgress {
  n: number;
  states: TSegmentState[];
  results: (TLoadResult | undefined)[];
  histories: THistoryEvent[][];
  merger: SecondMerger;
  report: () => void;
  onHistory?: (e: THistoryEvent) => void;
}

/** Apply one up-stream message to the segments' progress; a segment's `error` comes back as the failure to raise. */
function onSegmentMessage(m: TSegmentUp, g: TSegmentsProgress): { index: number; reason: string; code: 'UNAVAILABLE' | 'VALIDATION' } | undefined {
  const s = g.states[m.index];
  switch (m.type) {
    case 'taken':
      s.state = 'taken';
      s.worker = m.worker;
      g.report();
      break;
    case 'ready':
      s.state = 'ready';
      g.report();
      break;
    case 'heartbeat':
      break;
    case 'second':
      s.seconds++;
      if (s.state === 'ready') s.state = 'running';
      g.merger.push(m.index, m.second);
      if (s.seconds === 1 || s.seconds % 5 === 0) g.report();
      break;
    case 'history':
      for (const e of m.events) {
        g.histories[m.index].push(e);
        g.onHistory?.(e);
      }
      break;
    case 'done':
      s.state = 'done';
      g.results[m.index] = { ...m.result, history: g.histories[m.index] };
      g.report();
      break;
    case 'error':
      return {
        index: m.index,
        reason: `${segmentName(m.index, g.n)} failed on worker ${s.worker ?? '?'}: ${m.message}`,
        code: m.code === 'VALIDATION' ? 'VALIDATION' : 'UNAVAILABLE',
      };
  }
  return undefined;
}

function lostSegment(
  states: TSegmentState[],
  lastHeard: number[],
  now: number,
  b: { heartbeatTimeoutMs: number; takeTimeoutMs: number; started: boolean },
  n: number,
): { index: number; reason: string } | undefined {
  for (const s of states) {
    const silentMs = now - lastHeard[s.index];
    if (s.state === 'done' || s.state === 'failed') continue;
    if (s.state === 'queued' && silentMs > b.takeTimeoutMs)
      return {
        index: s.index,
        reason: `${segmentName(s.index, n)} was not taken by any worker within ${Math.round(b.takeTimeoutMs / 1000)} s (is a worker with the load role running on this Redis and prefix?)`,
      };
    if (s.state !== 'queued' && silentMs > b.heartbeatTimeoutMs)
      return {
        index: s.index,
        reason: `${segmentName(s.index, n)} lost its worker ${s.worker ?? '?'}: no heartbeat for ${Math.round(silentMs / 1000)} s${b.started ? '' : ' (before the start)'}`,
      };
  }
  return undefined;
}

async function firstFailedJob(p: TPlatform, jobs: Job[], states: TSegmentState[]): Promise<{ index: number; reason: string } | undefined> {
  for (let i = 0; i < jobs.length; i++) {
    if (states[i].state === 'done' || states[i].state === 'failed') continue;
    const job = await p.loadQueue.getJob(jobs[i].id!).catch(() => undefined);
    if (!job || !(await job.isFailed().catch(() => false))) continue;
    return { index: i, reason: job.failedReason || 'job failed' };
  }
  return undefined;
}
