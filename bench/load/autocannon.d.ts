// The subset of autocannon 8's programmatic API the bench uses (no @types for v8).
declare module 'autocannon' {
  interface Stats {
    average: number;
    p99: number;
    p50: number;
    max: number;
  }
  interface Result {
    requests: Stats;
    latency: Stats;
    errors: number;
    timeouts: number;
    non2xx: number;
  }
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    overallRate?: number;
    connectionRate?: number;
    workers?: number;
  }
  function autocannon(opts: Options): Promise<Result>;
  export default autocannon;
}
