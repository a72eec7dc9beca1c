/**
 * The YAML a new target starts from in the console's editor: a complete,
 * valid target (the transfers example's shape, docs/targets.md), each piece
 * commented, to be edited into the user's own system. Pieces a system does
 * not have are deleted: a target without `processes` simply offers no
 * process faults.
 */
export const NEW_TARGET_TEMPLATE = `# A system under test, as faultline knows it (docs/targets.md, "The file, piece by piece").
# The name is how experiments name this target: \`target: my-service\`.
name: my-service
description: What this system does, in one line.

# Where load goes, and the steady-state probe (must answer 2xx).
entry:
  url: \${MY_SERVICE_URL:-http://127.0.0.1:8600}
  health: /health

# Toxiproxy in front of each dependency: network faults go on these edges.
# With listen + upstream faultline creates each proxy at run start (point the service at \`listen\`).
edges:
  toxiproxy: \${TOXIPROXY_URL:-http://127.0.0.1:8474}
  proxies:
    - name: my-service->postgres
      kind: postgres
      listen: 127.0.0.1:26432
      upstream: 127.0.0.1:5432
    - name: my-service->redis
      kind: redis
      listen: 127.0.0.1:26379
      upstream: 127.0.0.1:6379

# Process faults (kill, pause): one-line commands, {pid} read from each instance's pid_file.
processes:
  kind: commands
  instances:
    - id: my-service-0
      service: my-service
      pid_file: /tmp/my-service.pid
  commands:
    kill: kill -KILL {pid}
    pause: kill -STOP {pid}
    resume: kill -CONT {pid}
    start: npx tsx server.ts

# Server-side SLOs and breaker timelines: the request histogram and its labels.
metrics:
  scrape: ["\${MY_SERVICE_URL:-http://127.0.0.1:8600}/metrics"]
  requests:
    histogram: http_server_request_duration_seconds
    route_label: route
    method_label: method
    status_label: status

# The service's log lines for each run (and the violation trails): a JSON-lines file here.
logs:
  kind: file
  path: /tmp/my-service.log
  id_field: requestId

# Databases by name; the connection string stays in an environment variable.
databases:
  main:
    url_env: MY_SERVICE_DATABASE_URL
    default: postgres://postgres@127.0.0.1:5432/my_service

# What must never exist: read-only SQL returning the offending rows.
invariants:
  - name: balance-non-negative
    database: main
    description: no account below zero
    sql: SELECT id, balance_cents FROM accounts WHERE balance_cents < 0 ORDER BY id
    show: "account {id}: balance {balance_cents}"

# Work still in flight (one row each): the run waits for none, at most \`max\`.
settled:
  database: main
  sql: SELECT id FROM jobs WHERE status = 'pending'
  max: 30s
`;
