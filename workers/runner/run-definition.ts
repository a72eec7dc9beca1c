/**
 * The run's experiment, read back from `runs.definition` through the one
 * experiment schema instead of a cast: a definition stored by an older
 * version, edited by hand, or truncated fails here with the field named.
 *
 * The stored value is ExperimentSchema's *output* (durations in ms, defaults
 * filled). Its duration fields are turned back into input (`"5000ms"`, since
 * a bare number in an experiment means seconds) by walking the schema, so the
 * same schema, bounds and cross-field checks apply as to a file.
 */
import type { z } from 'zod';
import { AppError } from '../../core/errors.js';
import { parseWith } from '../../core/validate.js';
import { DurationSchema, ExperimentSchema, type TExperiment } from '../../experiments/index.js';

type TDef = { type: string; innerType?: z.ZodType; shape?: Record<string, z.ZodType>; element?: z.ZodType; options?: z.ZodType[]; in?: z.ZodType };

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'nonoptional', 'readonly', 'catch']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `value` (a parse output of `schema`) with every DurationSchema number written as `<n>ms`. */
export function encodeDurations(schema: z.ZodType, value: unknown): unknown {
  if (schema === (DurationSchema as z.ZodType)) return typeof value === 'number' ? `${value}ms` : value;
  const def = (schema as unknown as { _zod: { def: TDef } })._zod.def;
  if (WRAPPERS.has(def.type)) return value === undefined || value === null ? value : encodeDurations(def.innerType!, value);
  if (def.type === 'pipe') return encodeDurations(def.in!, value);
  if (def.type === 'object' && isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, def.shape![k] ? encodeDurations(def.shape![k], v) : v]));
  }
  if (def.type === 'array' && Array.isArray(value)) return value.map((v) => encodeDurations(def.element!, v));
  if (def.type === 'union') {
    // the option this value was parsed by is the one its encoding parses with again
    for (const option of def.options!) {
      const encoded = encodeDurations(option, value);
      if (option.safeParse(encoded).success) return encoded;
    }
  }
  return value;
}

/**
 * Validate a stored run definition. Throws AppError VALIDATION whose message
 * names every bad field (it becomes the `errored` run's reason).
 */
export function parseStoredExperiment(definition: unknown): TExperiment {
  try {
    return parseWith(ExperimentSchema, encodeDurations(ExperimentSchema, definition), 'stored experiment definition');
  } catch (e) {
    if (!(e instanceof AppError) || !e.issues?.length) throw e;
    const fields = e.issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ');
    throw new AppError('VALIDATION', `invalid stored experiment definition: ${fields}`, { issues: e.issues });
  }
}
