// Generic runner: any faultline scenario, read in the init context.
//   k6 run -e SCENARIO=/abs/path/scenario.json -e BASE_URL=http://127.0.0.1:8080 loadtests/k6/scenario.js
// SCENARIO is the scenario as JSON (k6 has no YAML parser; the faultline k6
// adapter writes it from the YAML, or `faultline load <file> --print-json`).
import { optionsFor, setupShop, shopIteration, summaryOutput } from './lib/shop.js';

if (!__ENV.SCENARIO) throw new Error('set SCENARIO to a scenario JSON file (-e SCENARIO=...)');
const scenario = JSON.parse(open(__ENV.SCENARIO));
const BASE_URL = (__ENV.BASE_URL || scenario.baseUrl || 'http://127.0.0.1:8080').replace(/\/$/, '');

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
