/**
 * What the runner needs from the other modules, as narrow functions: the
 * fault catalog and the safety lever (chaos/), the load engine (loadtests/),
 * the shop's consistency baseline and settled check, and the analysis +
 * report writer (workers/analysis, workers/reports). `deps.ts` wires the
 * real ones; tests may wrap them (e.g. to observe calls), never replace the
 * real shop, proxy or databases.
 */
import type { TDb } from '../../db/client.js';
import type { TExperiment, TNemesisTopology } from '../../experiments/index.js';
import type { TFaultContext, TLeverState } from '../../chaos/index.js';
import type { THistoryEvent, TLoadResult, TLoadSecond, TScenario } from '../../loadtests/index.js';
import type { TAnalyseOptions, TConsistencyBaseline, TSettleOutcome } from '../analysis/index.js';
import type { TScrapeInstance, TScrapeTick } from '../collectors/index.js';
import type { TPlatform } from '../platform.js';
import type { TFaultWindow, TViolationRecord } from '../reports/index.js';
import type { LogStore, TLogRecord } from '../logstore/index.js';

export type { TConsistencyBaseline, TFaultWindow, TLeverState, TSettleOutcome, TViolationRecord };

export interface TAppliedFaultHandle {
  id: string;
  remove(): Promise<void>;
}

export interface TRunLoadOptions {
  baseUrl?: string;
  onSecond?: (s: TLoadSecond) => void;
  onHistory?: (e: THistoryEvent) => void;
  /** Called when the first iteration is scheduled (after setup); the fault timeline counts from here. */
  onStart?: (t: number) => void;
  signal?: AbortSignal;
}

export interface TAnalyseInput {
  runId: string;
  experiment: TExperiment;
  scenario: TScenario | undefined;
  /** Epoch ms: steady-state start and the end of quiescence. */
  startedAt: number;
  endedAt: number;
  /** How the run ended before analysis. */
  ended: 'completed' | 'aborted' | 'errored';
  reason: string | null;
  load: TLoadResult | undefined;
  /**
   * Every planned fault of the run, as it actually happened: the same records
   * the fault timeline filled in (planned offset and length, applied/removed
   * times; the removal is the halt's time when the run was stopped early).
   */
  faults: TFaultWindow[];
  /** The consistency findings present before the load (absent: not captured, every finding counts). */
  baseline?: TConsistencyBaseline;
  /** How long the run waited for the shop to settle after the load (absent: it never got there). */
  settle?: TSettleOutcome;
  db: TDb;
  logStore: LogStore;
  /** How the system under test is judged (its target file's consistency checks, request histogram and breaker mapping). */
  system?: Pick<TAnalyseOptions, 'consistency' | 'server' | 'breakers'>;
  /** The run's report directory (created by the writer). */
  reportDir: string;
}

export interface TAnalyseOutput {
  verdict: 'passed' | 'failed' | 'aborted' | 'errored';
  reason: string | null;
  /** report.json content (workers/reports schema). */
  report: unknown;
  schemaVersion: number;
  /** Files written in `reportDir`. */
  files: string[];
  violations: TViolationRecord[];
  /** Counts for the runs table and the CLI (passed/failed SLOs, expectations, invariants). */
  summary: Record<string, unknown>;
}

/** A log reader the run's observers start and stop. */
export interface TLogReaderHandle {
  start(): Promise<void>;
  /** Ship what arrived up to now; nothing is read after it resolves. */
  stop(): Promise<void>;
}

export interface TSteadyStateCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/**
 * The system under test as the run's phases ask it (DESIGN.md "The runner
 * asks the target, never the shop"): where the load goes, how a fault is
 * applied, what to scrape, whether it holds its steady state, has settled,
 * and how its consistency is judged: `target-system.ts` over a target file
 * (the bundled shop's is targets/shop.yaml).
 */
export interface TSystemUnderTest {
  /** The target's name (`shop` for the bundled shop). */
  name: string;
  /** Base URL of the load. */
  entryUrl: string;
  /** The fault context's URLs: the Toxiproxy API, and the supervisor ('' when there is none). */
  faultUrls: { toxiproxyUrl: string; supervisorUrl: string };
  /** Before the steady state: set up what the run needs (a target's proxies); resolves to its undo, called on every way out. */
  prepare(): Promise<() => Promise<void>>;
  applyFault(spec: unknown, ctx: TFaultContext): Promise<TAppliedFaultHandle>;
  /** What the metrics collector scrapes (running instances with a base URL serving `/metrics`). */
  instances(): Promise<TScrapeInstance[]>;
  /** The edges and instances a nemesis draws its faults from, and the kinds the system can take. */
  topology(): Promise<TNemesisTopology>;
  /** Metric families the collector keeps; undefined = the collector's default (the shop's). */
  keepMetrics?: readonly string[];
  /** Tag the system's logs with the run (null clears); a system without the means does nothing. */
  setRunContext(runId: string | null): Promise<void>;
  /**
   * The reader of the system's own logs for the run (a target file's `logs`: a file, an
   * Elasticsearch index), writing to `store` tagged with `runId`; started with the
   * observers, stopped before analysis. Absent: the run has no log lines of the system.
   */
  logReader?(o: { store: LogStore; runId: string; onBatch?: (records: TLogRecord[]) => void; onError?: (e: unknown) => void }): TLogReaderHandle | undefined;
  steadyStateChecks(tick: TScrapeTick, probes: number): Promise<TSteadyStateCheck[]>;
  captureBaseline(invariants: readonly string[]): Promise<TConsistencyBaseline>;
  isSettled(baseline?: TConsistencyBaseline): Promise<{ settled: boolean; detail: string }>;
  /** The run's scenario as this system needs it (a target adds its acknowledged writes and entry headers); absent = as is. */
  adaptScenario?(s: TScenario): TScenario;
  /** Judging beyond the shop's defaults, handed to the analysis. */
  analysis?: Pick<TAnalyseOptions, 'consistency' | 'server' | 'breakers'>;
}

export interface TRunnerDeps {
  /** The system under test of an experiment (`target: shop` or a target file). */
  systemUnderTest(experiment: TExperiment, p: TPlatform, deps: TRunnerDeps): Promise<TSystemUnderTest>;
  applyFault(spec: unknown, ctx: TFaultContext): Promise<TAppliedFaultHandle>;
  /** A shipped scenario by name, or a scenario file by absolute path. */
  loadScenario(name: string): Promise<TScenario>;
  /** Apply the experiment's load overrides (rate, duration, vus) and the gateway URL. */
  scenarioFor(base: TScenario, load: TExperiment['load'], baseUrl: string): TScenario;
  runLoad(scenario: TScenario, opts: TRunLoadOptions): Promise<TLoadResult>;
  analyse(input: TAnalyseInput): Promise<TAnalyseOutput>;
  /** The safety lever (contract 4): asked before leaving `queued` and before every fault apply. */
  leverState(db: TDb): Promise<TLeverState>;
}
