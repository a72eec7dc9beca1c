'use client';
/**
 * The YAML editor of experiments and of targets saved in the console: YAML
 * text, validated by the server's schema as you type (debounced,
 * `/api/<kind>/validate`); each problem is shown at its line in the gutter
 * and in the list under the editor, named by its field path. For an
 * experiment, the target picker (`targets`: `shop`, the target files and the
 * saved targets the Targets page lists) writes the `target:` line; the same
 * validation then checks the experiment against the chosen target's edges,
 * processes and invariants.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { useRouter } from 'next/navigation';
import { api, ApiError, type TApiIssue } from './api.js';
import { readTargetLine, writeTargetLine } from './target-line.js';

export interface TTargetOption {
  value: string;
  label: string;
}

export interface TYamlEditorProps {
  initial: string;
  /** Set when editing: saving replaces it (PUT); else saving creates one (POST). */
  id?: string;
  targets?: TTargetOption[];
  /** What is edited: the API under /api/<kind> and the page saved to go to (/<kind>/<id>). @defaultValue 'experiments' */
  kind?: 'experiments' | 'targets';
}

export function YamlEditor({ initial, id, targets, kind = 'experiments' }: TYamlEditorProps) {
  const router = useRouter();
  const [text, setText] = useState(initial);
  const [issues, setIssues] = useState<TApiIssue[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const [state, setState] = useState<'idle' | 'checking' | 'valid' | 'invalid' | 'saving'>('idle');
  const gutter = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const ac = new AbortController();
    const h = setTimeout(async () => {
      setState('checking');
      try {
        await api(`/api/${kind}/validate`, { method: 'POST', body: { yaml: text }, signal: ac.signal });
        setIssues([]);
        setMessage(null);
        setState('valid');
      } catch (e) {
        if ((e as Error).name === 'AbortError') return;
        const x = e as ApiError;
        setIssues(x.issues);
        setMessage(x.message);
        setState('invalid');
      }
    }, 400);
    return () => {
      clearTimeout(h);
      ac.abort();
    };
  }, [text, kind]);
  const lines = useMemo(() => text.split('\n').length, [text]);
  const target = useMemo(() => readTargetLine(text), [text]);
  // a target the list does not have (typed by hand, or a file since removed) stays selectable as written
  const options = useMemo(
    () => (targets && !targets.some((o) => o.value === target) ? [...targets, { value: target, label: `${target} (not listed)` }] : targets),
    [targets, target],
  );
  const bad = useMemo(() => new Map(issues.filter((i) => i.line).map((i) => [i.line!, `${i.path}: ${i.message}`])), [issues]);
  return (
    <div className="stack tight">
      {options && (
        <label className="row">
          <span>Target</span>
          <select data-testid="target-picker" value={target} onChange={(e) => setText((t) => writeTargetLine(t, e.target.value))}>
            {options.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
          <span className="muted">
            a target file&apos;s paths (and a scenario file&apos;s) are relative to the targets root; see <a href="/targets">Targets</a>
          </span>
        </label>
      )}
      <div className="yaml-editor">
        <div ref={gutter} className="gutter">
          {Array.from({ length: lines }, (_, i) => (
            <div key={i} title={bad.get(i + 1)} className={bad.has(i + 1) ? 'bad-line' : undefined}>
              {i + 1}
            </div>
          ))}
        </div>
        <textarea
          name="yaml"
          data-testid="yaml-editor"
          spellCheck={false}
          value={text}
          onChange={(e) => setText(e.target.value)}
          onScroll={(e) => {
            if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
          }}
        />
      </div>
      <div className="row">
        <span data-testid="validation-state" className={`badge ${state === 'valid' ? 'b-ok' : state === 'invalid' ? 'b-bad' : 'b-dim'}`}>
          {state === 'valid' ? 'valid' : state === 'invalid' ? `${issues.length || 1} problem${issues.length > 1 ? 's' : ''}` : state}
        </span>
        <span className="spacer" />
        <button
          className="primary"
          data-testid="save"
          disabled={state === 'saving' || state === 'invalid'}
          onClick={async () => {
            setState('saving');
            try {
              const r = await api<{ id: string }>(id ? `/api/${kind}/${id}` : `/api/${kind}`, { method: id ? 'PUT' : 'POST', body: { yaml: text } });
              router.push(`/${kind}/${r.id}`);
              router.refresh();
            } catch (e) {
              const x = e as ApiError;
              setIssues(x.issues);
              setMessage(x.message);
              setState('invalid');
            }
          }}
        >
          Save
        </button>
      </div>
      {(message || issues.length > 0) && (
        <div className="errbox" role="alert" data-testid="issues">
          <b>{message}</b>
          <ul>
            {issues.map((i, k) => (
              <li key={k}>
                {i.line ? <b>line {i.line}</b> : null} <code>{i.path || '(root)'}</code>: {i.message}
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
