/**
 * One way to turn untrusted input (a YAML file, an API body, CLI flags) into a
 * typed value: zod parses, and every issue becomes a field-level message with
 * the YAML line when the input came from a file.
 */
import { parseDocument, isMap, isSeq, LineCounter, type Node as YamlNode } from 'yaml';
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
  const value = doc.toJS();
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  if (value === null || value === undefined) throw new AppError('VALIDATION', `${filename}: invalid file`, { issues: [{ path: '', message: 'the file is empty' }] });
  const issues: TFieldIssue[] = r.error.issues.map((i) => ({
    path: issuePath(i.path),
    message: issueMessage(i),
    line: lineOf(doc.contents as YamlNode, i.path, lc),
  }));
  throw new AppError('VALIDATION', `${filename}: invalid file`, { issues });
}
