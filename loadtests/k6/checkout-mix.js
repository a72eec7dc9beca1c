// The default load of experiments: 30 iterations/s for 60 s (open model), mostly browsing,
// 15 % checkouts with an Idempotency-Key, order lookups and a few cancellations.
// The same scenario as loadtests/scenarios/checkout-mix.yaml (a test keeps the two in step).
//   k6 run -e BASE_URL=http://127.0.0.1:8080 loadtests/k6/checkout-mix.js
import { optionsFor, setupShop, shopIteration, summaryOutput } from './lib/shop.js';

const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');

const scenario = {
  name: 'checkout-mix',
  setup: { users: 20, products: 5 },
  mix: {
    browse: 50,
    view_product: 25,
    checkout: 15,
    order_status: 8,
    cancel: 2,
  },
  checkout: { maxItems: 2, maxQty: 2 },
  load: {
    executor: 'constant-arrival-rate',
    rate: 30,
    timeUnit: '1s',
    duration: '60s',
    preAllocatedVUs: 20,
    maxVUs: 200,
    gracefulStop: '10s',
  },
  http: { timeout: '10s' },
  thresholds: {
    http_req_duration: ['p(95)<300', 'p(99)<1000'],
    'http_req_duration{name:checkout}': ['p(95)<800'],
    http_req_failed: ['rate<0.02'],
    dropped_iterations: ['count==0'],
    http_req_corrected_duration: ['p(99)<1500'],
  },
  tags: { suite: 'checkout-mix' },
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
