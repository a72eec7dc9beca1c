// Spike: 10 rps, a jump to 100 rps within 5 s, hold 20 s, back down (ramping-arrival-rate).
// The same scenario as loadtests/scenarios/spike.yaml (a test keeps the two in step).
//   k6 run -e BASE_URL=http://127.0.0.1:8080 loadtests/k6/spike.js
import { optionsFor, setupShop, shopIteration, summaryOutput } from './lib/shop.js';

const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');

const scenario = {
  name: 'spike',
  setup: { users: 30, products: 5 },
  mix: {
    browse: 60,
    view_product: 25,
    checkout: 12,
    order_status: 3,
  },
  load: {
    executor: 'ramping-arrival-rate',
    startRate: 10,
    timeUnit: '1s',
    preAllocatedVUs: 50,
    maxVUs: 400,
    stages: [
      { duration: '10s', target: 10 },
      { duration: '5s', target: 100 },
      { duration: '20s', target: 100 },
      { duration: '5s', target: 10 },
      { duration: '10s', target: 10 },
    ],
  },
  http: { timeout: '10s' },
  thresholds: {
    http_req_failed: ['rate<0.05'],
    http_req_duration: ['p(95)<800'],
    http_req_corrected_duration: ['p(95)<2000'],
  },
  tags: { suite: 'spike' },
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
