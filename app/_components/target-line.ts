/**
 * The experiment editor's target picker reads and writes one top-level line
 * of the YAML text, `target: <value>`, and leaves every other line (and
 * comment) as the user typed it. Pure: tested without a browser.
 */

const TARGET_LINE = /^target:[ \t]*(.*?)[ \t]*(#.*)?$/m;

/** The experiment's `target:` as written (quotes removed); `shop` when the line is absent (the schema's default). */
export function readTargetLine(yaml: string): string {
  const m = TARGET_LINE.exec(yaml);
  if (!m) return 'shop';
  return m[1]!.replace(/^(['"])(.*)\1$/, '$2') || 'shop';
}

/**
 * The text with `target: <value>`: the existing top-level line replaced (its
 * comment kept), or a new line after `description:` (else after `name:`,
 * else first).
 */
export function writeTargetLine(yaml: string, value: string): string {
  const quoted = /^[A-Za-z0-9_./-]+$/.test(value) ? value : JSON.stringify(value);
  const m = TARGET_LINE.exec(yaml);
  if (m) return yaml.replace(TARGET_LINE, `target: ${quoted}${m[2] ? ` ${m[2]}` : ''}`);
  const lines = yaml.split('\n');
  const after = ['description', 'name'].map((k) => lines.findIndex((l) => l.startsWith(`${k}:`))).find((i) => i >= 0);
  if (after === undefined) return `target: ${quoted}\n${yaml}`;
  // a folded or multi-line description continues on indented lines
  let at = after + 1;
  while (at < lines.length && /^[ \t]+\S/.test(lines[at]!)) at++;
  lines.splice(at, 0, `target: ${quoted}`);
  return lines.join('\n');
}
