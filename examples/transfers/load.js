// k6 load for the transfers example: random transfers between the 20 seeded
// accounts at a constant arrival rate, each with its own Idempotency-Key.
//   k6 run -e BASE_URL=http://127.0.0.1:8600 examples/transfers/load.js
import http from 'k6/http';
import { check } from 'k6';

const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8600').replace(/\/$/, '');

export const options = {
  scenarios: {
    transfers: {
      executor: 'constant-arrival-rate',
      rate: Number(__ENV.RATE || 50),
      timeUnit: '1s',
      duration: __ENV.DURATION || '30s',
      preAllocatedVUs: 20,
      maxVUs: 100,
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{name:transfer}': ['p(95)<500'],
    checks: ['rate>0.99'],
  },
};

const account = () => `acct-${String(1 + Math.floor(Math.random() * 20)).padStart(2, '0')}`;

export default function () {
  const from = account();
  let to = account();
  while (to === from) to = account();
  const res = http.post(`${BASE_URL}/transfers`, JSON.stringify({ from, to, amountCents: 1 + Math.floor(Math.random() * 500) }), {
    headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
    tags: { name: 'transfer' },
  });
  check(res, { 'transfer accepted': (r) => r.status === 202 && Boolean(r.json('transferId')) });
}
