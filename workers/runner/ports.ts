/**
 * What the runner needs from the other modules, as narrow functions: the
 * fault catalog (chaos/), the load engine (loadtests/) and the analysis +
 * report writer (workers/analysis, workers/reports). `deps.ts` wires the
 * real ones; tests may wrap them (e.g. to observe calls), never replace the
 * real shop, proxy or databases.
 */
import type { TDb } from '../../db/client.js';
import type { TExperiment } from '../../experiments/index.js';
import type { TFaultContext } from '../../chaos/index.js';
import type { THistoryEvent, TLoadResult, TLoadSecond, TScenario } from '../../loadtests/index.js';
import type { LogStore } from '../logstore/index.js';

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

/** A fault as it actually happened (report FaultWindowSchema). */
export interface TFaultWindowRecord {
  name: string;
  type: string;
  target: string;
  plannedAtMs: number;
  plannedDurationMs: number;
  appliedAt: number | null;
  removedAt: number | null;
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
  faults: TFaultWindowRecord[];
  db: TDb;
  shopDatabaseUrl: string;
  logStore: LogStore;
  /** The run's report directory (created by the writer). */
  reportDir: string;
}

export interface TViolationRecord {
  kind: 'slo' | 'breaker' | 'consistency' | 'history';
  name: string;
  message: string;
  evidence: unknown;
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

export interface TRunnerDeps {
  applyFault(spec: unknown, ctx: TFaultContext): Promise<TAppliedFaultHandle>;
  targetText(spec: unknown): string;
  loadScenario(name: string): Promise<TScenario>;
  /** Apply the experiment's load overrides (rate, duration, vus) and the gateway URL. */
  scenarioFor(base: TScenario, load: TExperiment['load'], baseUrl: string): TScenario;
  runLoad(scenario: TScenario, opts: TRunLoadOptions): Promise<TLoadResult>;
  analyse(input: TAnalyseInput): Promise<TAnalyseOutput>;
}
