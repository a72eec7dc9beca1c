/**
 * Typed run progress events (a discriminated union, STYLE.md): stored in
 * `run_events` in order and published on Redis channel
 * `faultline:run:<runId>` for the console (SSE) and the CLI.
 */
import type { TRunState } from '../../db/schema/index.js';

export interface TLoadSecondEvent {
  /** Epoch ms, start of the second. */
  t: number;
  rps: number;
  target: number;
  errors: number;
  errorsByKind: Record<string, number>;
  p50: number;
  p95: number;
  p99: number;
  cp99: number;
  activeVus: number;
  dropped: number;
  /** A split load (`load.segments: N`): each segment's own part of this second (only the segments that reported it). */
  segments?: TSegmentSecondEvent[];
}

/** One segment's part of a merged second: what it achieved against its share of the schedule. */
export interface TSegmentSecondEvent {
  /** 0-based segment index. */
  index: number;
  /** Requests completed (one per iteration in the built-in mixes). */
  rps: number;
  /** Iterations its stripe scheduled in this second. */
  target: number;
  errors: number;
  dropped: number;
}

/** Where one segment of a split load is (workers/load's TSegmentState), as the run page shows it. */
export interface TSegmentStateEvent {
  index: number;
  state: 'queued' | 'taken' | 'ready' | 'running' | 'done' | 'failed';
  /** The worker that took it (hostname:pid:random). */
  worker?: string;
  /** Seconds it has reported. */
  seconds: number;
  /** Why it failed. */
  reason?: string;
}

export type TRunEvent =
  | { type: 'phase'; phase: TRunState; reason?: string }
  | { type: 'steady_state'; ok: boolean; checks: { name: string; ok: boolean; detail: string }[] }
  | { type: 'fault.applied'; name: string; faultId: string; fault: { type: string; target: unknown }; plannedAt: number; until: number }
  | { type: 'fault.removed'; name: string; faultId: string; error?: string }
  | { type: 'fault.failed'; name: string; error: string }
  | { type: 'load.second'; second: TLoadSecondEvent }
  /** A split load's segments, on every state change (and every 5 s while they report seconds). */
  | { type: 'load.segments'; count: number; segments: TSegmentStateEvent[] }
  | { type: 'abort'; reason: string; condition?: unknown }
  /** After the load, faults removed: how long the run waited for the shop to settle (up to the experiment's quiescence). */
  | { type: 'settle'; settled: boolean; waitedMs: number; maxMs: number; detail: string }
  | { type: 'note'; level: 'info' | 'warn' | 'error'; msg: string }
  | { type: 'verdict'; verdict: 'passed' | 'failed' | 'aborted' | 'errored'; reason?: string; summary?: unknown; reportDir?: string };

export type TRunEventType = TRunEvent['type'];

/** An event as stored and published: with its position and time. */
export type TStoredRunEvent = TRunEvent & { runId: string; seq: number; t: number };

export function runChannel(runId: string, channelPrefix = 'faultline'): string {
  return `${channelPrefix}:run:${runId}`;
}

/** Channel on which abort requests for a run are published (console "Abort" button, CLI Ctrl-C). */
export function runControlChannel(runId: string, channelPrefix = 'faultline'): string {
  return `${channelPrefix}:run:${runId}:control`;
}
