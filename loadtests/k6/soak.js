// Soak (bounded): 15 rps for 10 minutes; aborts early (exit 99) when more than 5 % of requests fail.
// The same scenario as loadtests/scenarios/soak.yaml (a test keeps the two in step).
//   k6 run -e BASE_URL=http://127.0.0.1:8080 loadtests/k6/soak.js
import { optionsFor, setupShop, shopIteration, summaryOutput } from './lib/shop.js';

const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');

const scenario = {
  name: 'soak',
  setup: { users: 20, products: 5 },
  mix: {
    browse: 50,
    view_product: 25,
    checkout: 15,
    order_status: 8,
    cancel: 2,
  },
  load: {
    executor: 'constant-arrival-rate',
    rate: 15,
    timeUnit: '1s',
    duration: '10m',
    preAllocatedVUs: 15,
    maxVUs: 100,
  },
  http: { timeout: '10s' },
  thresholds: {
    http_req_failed: [
      { threshold: 'rate<0.05', abortOnFail: true, delayAbortEval: '30s' },
    ],
    http_req_duration: ['p(99)<1500'],
    dropped_iterations: ['count<10'],
  },
  tags: { suite: 'soak' },
};

export const options = optionsFor(scenario);

export function setup() {
  return setupShop(scenario, BASE_URL);
}

export default function (data) {
  shopIteration(scenario, data, BASE_URL);
}

export function handleSummary(data) {
  return summaryOutput(data);
}
