/**
 * The load-segment protocol between the process that runs a run (the
 * coordinator) and the workers that run its segments, over two Redis streams
 * per load under the platform prefix. Streams, not pub/sub: a message waits
 * for a reader that connects late (a worker taking its job after the start
 * was sent, a coordinator reading after a reconnect), and the order is the
 * writer's.
 *
 *   coordinator ──enqueue N × load.segment@v1──▶ BullMQ `load` queue ──▶ workers
 *   coordinator ◀──up: taken | ready | heartbeat | second | history | done | error── worker i
 *   coordinator ──down: start {at} | abort {reason}──▶ every worker of the load
 *   coordinator ──key <prefix>:load:<id>:alive (expires unless refreshed)──▶ workers stop when it is gone
 */
import { evenSegmentSpec, type THistoryEvent, type TLoadResult, type TLoadSecond } from '../../loadtests/index.js';

/** Worker → coordinator. `index` is the segment (0-based); `worker` the worker id (hostname:pid:random). */
export type TSegmentUp =
  | { type: 'taken'; index: number; worker: string }
  | { type: 'ready'; index: number }
  | { type: 'heartbeat'; index: number }
  | { type: 'second'; index: number; second: TLoadSecond }
  | { type: 'history'; index: number; events: THistoryEvent[] }
  /** The segment's result with its raw metrics; its history came in `history` messages. */
  | { type: 'done'; index: number; result: TLoadResult }
  | { type: 'error'; index: number; code: string; message: string };

/** Coordinator → every worker of the load. */
export type TSegmentDown = { type: 'start'; at: number } | { type: 'abort'; reason: string };

/** Stream of the workers' messages for one load (a run's load: its run id). */
export function upStream(prefix: string, loadId: string): string {
  return `${prefix}:load:${loadId}:up`;
}

/** Stream of the coordinator's commands for one load. */
export function downStream(prefix: string, loadId: string): string {
  return `${prefix}:load:${loadId}:down`;
}

/**
 * Present while the coordinator is alive: set with an expiry of its heartbeat bound and refreshed
 * while it reads; a segment that finds it gone stops (a dead runner must not leave load running).
 */
export function aliveKey(prefix: string, loadId: string): string {
  return `${prefix}:load:${loadId}:alive`;
}

/** Streams outlive their load by this long (a late worker still reads the abort), then Redis drops them. */
export const STREAM_TTL_MS = 6 * 3600_000;

/** Field name of the one JSON field of every stream entry. */
export const FIELD = 'm';

/** Entries of an XREAD answer as [id, parsed message]; entries that are not ours are skipped. */
export function entriesOf<T>(answer: [string, [string, string[]][]][] | null): [string, T][] {
  const out: [string, T][] = [];
  for (const [, entries] of answer ?? [])
    for (const [id, fields] of entries) {
      const i = fields.indexOf(FIELD);
      if (i < 0 || i + 1 >= fields.length) continue;
      try {
        out.push([id, JSON.parse(fields[i + 1]) as T]);
      } catch {
        // not ours
      }
    }
  return out;
}

/** "load segment 2/3 (execution segment 1/3:2/3)": how reasons name a segment. */
export function segmentName(index: number, count: number): string {
  return `load segment ${index + 1}/${count} (execution segment ${evenSegmentSpec(index, count).segment})`;
}

/** One line of a split load's progress for the run page: `load segments: 1/2 running on host:1:ab (12 s) · 2/2 done on host:2:cd (20 s)`. */
export function formatSegmentProgress(states: readonly { index: number; state: string; worker?: string; seconds: number }[]): string {
  const n = states.length;
  return `load segments: ${states
    .map((s) => `${s.index + 1}/${n} ${s.state}${s.worker ? ` on ${s.worker}` : ''}${s.seconds ? ` (${s.seconds} s)` : ''}`)
    .join(' · ')}`;
}
