/** The YAML a new experiment starts from in the console's editor (a shop experiment: edit it, or pick a target). */
export const NEW_EXPERIMENT_TEMPLATE = `name: my-experiment
description: What should hold while the fault is on, and why.
target: shop
load:
  scenario: checkout-mix
  rate: 20
  duration: 40s
steady_state:
  slos:
    - name: checkout-availability
      route: POST /checkout
      sli: availability
      objective: 99
faults:
  - name: payments-slow
    at: 10s
    duration: 15s
    fault:
      type: latency
      target: orders->payments
      params:
        latencyMs: 500
quiescence: 10s
`;
