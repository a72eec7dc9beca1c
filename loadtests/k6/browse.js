// Browse (closed model): 1 → 10 VUs browsing and viewing products back to back.
// The same scenario as loadtests/scenarios/browse.yaml (a test keeps the two in step).
//   k6 run -e BASE_URL=http://127.0.0.1:8080 loadtests/k6/browse.js
import { optionsFor, setupShop, shopIteration, summaryOutput } from './lib/shop.js';

const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');

const scenario = {
  name: 'browse',
  setup: { users: 0, products: 5 },
  mix: { browse: 2, view_product: 3 },
  load: {
    executor: 'ramping-vus',
    startVUs: 1,
    stages: [
      { duration: '10s', target: 10 },
      { duration: '20s', target: 10 },
      { duration: '5s', target: 0 },
    ],
    gracefulRampDown: '5s',
  },
  http: { timeout: '10s' },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    http_req_duration: ['p(95)<300'],
  },
  tags: { suite: 'browse' },
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
