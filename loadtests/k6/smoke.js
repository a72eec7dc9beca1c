// Smoke: one request per second for 30 s over every request kind; any failed request fails the run.
// The same scenario as loadtests/scenarios/smoke.yaml (a test keeps the two in step).
//   k6 run -e BASE_URL=http://127.0.0.1:8080 loadtests/k6/smoke.js
import { optionsFor, setupShop, shopIteration, summaryOutput } from './lib/shop.js';

const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');

const scenario = {
  name: 'smoke',
  setup: { users: 2, products: 3 },
  mix: {
    browse: 4,
    view_product: 2,
    checkout: 2,
    order_status: 1,
    cancel: 1,
  },
  load: {
    executor: 'constant-arrival-rate',
    rate: 1,
    timeUnit: '1s',
    duration: '30s',
    preAllocatedVUs: 2,
    maxVUs: 5,
  },
  http: { timeout: '10s' },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    http_req_duration: ['p(95)<500'],
    'http_req_duration{name:checkout}': ['p(95)<1000'],
    checks: ['rate>0.99'],
  },
  tags: { suite: 'smoke' },
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
