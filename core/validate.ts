/**
 * One way to turn untrusted input (a YAML file, an API body, CLI flags) into a
 * typed value: zod parses, and every issue becomes a field-level message with
 * the YAML line when the input came from a file.
 */
import { parseDocument, isMap, isSeq, LineCounter, visit, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { AppError, type TFieldIssue } from './errors.js';

function issuePath(path: readonly PropertyKey[]): string {
  return path.map((p) => String(p)).join('.');
}

/** zod's default text for a missing field ("Invalid input: expected string, received undefined") says "required" instead. */
function issueMessage(i: { code: string; message: string; expected?: unknown }): string {
  if (i.code === 'invalid_type' && /^Invalid input: expected \w+, received undefined$/.test(i.message)) return `required (${String(i.expected)})`;
  return i.message;
}

/** Parse `input` with `schema`; on failure throw AppError('VALIDATION') naming each field. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issues: TFieldIssue[] = r.error.issues.map((i) => ({ path: issuePath(i.path), message: issueMessage(i) }));
  throw new AppError('VALIDATION', `invalid ${what}`, { issues });
}

function lineOf(doc: YamlNode | null | undefined, path: readonly PropertyKey[], lc: LineCounter): number | undefined {
  let node: unknown = doc;
  let lastRange: [number, number, number] | undefined;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => {
        const k = it.key as { value?: unknown } | null;
        return k !== null && typeof k === 'object' && String(k.value) === String(key);
      });
      if (!pair) break;
      const keyNode = pair.key as { range?: [number, number, number] };
      if (keyNode?.range) lastRange = keyNode.range;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(key)] as { range?: [number, number, number] } | undefined;
      if (!item) break;
      if (item.range) lastRange = item.range;
      node = item;
    } else break;
  }
  const r = (node as { range?: [number, number, number] } | null)?.range ?? lastRange;
  return r ? lc.linePos(r[0]).line : undefined;
}

/** 1-based line of the field at `path` in YAML `text` (or of its nearest parent); undefined when the text does not parse. */
export function yamlLineOf(text: string, path: readonly PropertyKey[]): number | undefined {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length) return undefined;
  return lineOf(doc.contents as YamlNode, path, lc);
}

/**
 * Aliases a file may expand. A few `&defaults` / `*defaults` are normal;
 * nested aliases multiply (the "billion laughs" bomb: 9 aliases of 9 aliases
 * of … is 9^n nodes from a few hundred bytes), so expansion is bounded.
 */
export const MAX_YAML_ALIASES = 100;

/**
 * `doc.toJS()` with alias expansion bounded and alias problems (an alias
 * bomb, an alias to an anchor never set) turned into a field error at the
 * alias's line; yaml throws a ReferenceError for both.
 */
function toJsBounded(doc: Document.Parsed, lc: LineCounter, filename: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    const unresolved = /Unresolved alias.*?: (.+)$/.exec(e.message)?.[1];
    let where: { path: string; line?: number } = { path: '' };
    visit(doc, {
      Alias(_key, node, ancestors) {
        if (unresolved !== undefined && node.source !== unresolved) return undefined;
        const path = ancestors
          .map((a, i) => {
            const next = ancestors[i + 1] ?? node;
            if (isMap(a)) return String((a.items.find((it) => it === next) as { key?: { value?: unknown } } | undefined)?.key?.value ?? '');
            if (isSeq(a)) return String(a.items.indexOf(next as never));
            return '';
          })
          .filter((x) => x !== '');
        where = { path: path.join('.'), line: node.range ? lc.linePos(node.range[0]).line : undefined };
        return visit.BREAK;
      },
    });
    const message =
      unresolved !== undefined
        ? `alias *${unresolved} refers to no anchor (&${unresolved} must be set before it is used)`
        : `too many alias expansions (more than ${MAX_YAML_ALIASES}): aliases of aliases multiply, so this is refused`;
    throw new AppError('VALIDATION', `${filename}: invalid file`, { issues: [{ path: where.path, message, line: where.line }] });
  }
}

/**
 * Parse YAML text and validate it. Syntax errors and schema issues both come
 * back as AppError('VALIDATION') with `line` set, so a user sees
 * `line 12: faults.0.params.latencyMs: Too small: expected number to be >=0`.
 */
export function parseYamlWith<S extends z.ZodType>(schema: S, text: string, filename: string): z.infer<S> {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length) {
    const issues: TFieldIssue[] = doc.errors.map((e) => ({
      path: '',
      message: e.message.split('\n')[0],
      line: e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line,
    }));
    throw new AppError('VALIDATION', `${filename}: YAML syntax error`, { issues });
  }
  const value = toJsBounded(doc, lc, filename);
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  if (value === null || value === undefined)
    throw new AppError('VALIDATION', `${filename}: invalid file`, { issues: [{ path: '', message: 'the file is empty' }] });
  const issues: TFieldIssue[] = r.error.issues.map((i) => ({
    path: issuePath(i.path),
    message: issueMessage(i),
    line: lineOf(doc.contents as YamlNode, i.path, lc),
  }));
  throw new AppError('VALIDATION', `${filename}: invalid file`, { issues });
}
