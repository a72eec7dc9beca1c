/**
 * Go `encoding/json` compatibility for the Toxiproxy API.
 *
 * Toxiproxy answers bad bodies with Go's own decoder messages
 * (`bad request body: unexpected EOF`, `json: cannot unmarshal string into Go
 * struct field LatencyToxic.attributes.latency of type int64`) and encodes
 * with Go's escaping (`<` → `\u003c`). Clients and tests compare these
 * strings, so this module reproduces them: a small JSON parser that keeps
 * number literals (Go decides integer-ness from the literal, not a float),
 * reports syntax errors the way Go's scanner words them, and typed field
 * decoders that produce Go's `UnmarshalTypeError` text.
 */

/** A parsed JSON value that keeps number literals as text. */
export type TGoValue =
  | { k: 'obj'; entries: [string, TGoValue][] }
  | { k: 'arr'; items: TGoValue[] }
  | { k: 'str'; v: string }
  | { k: 'num'; text: string }
  | { k: 'bool'; v: boolean }
  | { k: 'null' };

/** A decode failure carrying Go's message (without the `bad request body: ` prefix). */
export class GoJsonError extends Error {}

function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return "'\"'";
  const q = JSON.stringify(c);
  return `'${q.slice(1, -1)}'`;
}

const WS = new Set([' ', '\t', '\n', '\r']);

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const SIMPLE_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** A recursive-descent reader over `text`; `i` is the next character. Errors are Go's scanner messages. */
class GoJsonReader {
  i = 0;
  readonly text: string;
  readonly n: number;

  constructor(text: string) {
    this.text = text;
    this.n = text.length;
  }

  skipWs(): void {
    while (this.i < this.n && WS.has(this.text[this.i])) this.i++;
  }

  eof(): never {
    throw new GoJsonError('unexpected EOF');
  }

  /** EOF here is `unexpected EOF`. */
  more(): void {
    if (this.i >= this.n) this.eof();
  }

  bad(ctx: string): never {
    throw new GoJsonError(`invalid character ${quoteChar(this.text[this.i])} ${ctx}`);
  }

  literal(word: string, value: TGoValue): TGoValue {
    this.i++;
    for (let j = 1; j < word.length; j++, this.i++) {
      this.more();
      if (this.text[this.i] !== word[j]) this.bad(`in literal ${word} (expecting ${quoteChar(word[j])})`);
    }
    return value;
  }

  /** Digits, with the error `ctx` when there is none. */
  digits(ctx: string): void {
    this.more();
    if (!isDigit(this.text[this.i])) this.bad(ctx);
    while (isDigit(this.text[this.i])) this.i++;
  }

  number(): TGoValue {
    const { text } = this;
    const start = this.i;
    if (text[this.i] === '-') {
      this.i++;
      this.more();
      if (!isDigit(text[this.i])) this.bad('in numeric literal');
    }
    if (text[this.i] === '0') this.i++;
    else while (isDigit(text[this.i])) this.i++;
    if (text[this.i] === '.') {
      this.i++;
      this.digits('after decimal point in numeric literal');
    }
    if (text[this.i] === 'e' || text[this.i] === 'E') {
      this.i++;
      if (text[this.i] === '+' || text[this.i] === '-') this.i++;
      this.digits('in exponent of numeric literal');
    }
    return { k: 'num', text: text.slice(start, this.i) };
  }

  /** The escape after a backslash (`i` on the character after it). */
  escape(): string {
    this.more();
    const e = this.text[this.i];
    if (e in SIMPLE_ESCAPES) {
      this.i++;
      return SIMPLE_ESCAPES[e];
    }
    if (e !== 'u') return this.bad('in string escape code');
    this.i++;
    let hex = '';
    for (let j = 0; j < 4; j++, this.i++) {
      this.more();
      if (!/[0-9a-fA-F]/.test(this.text[this.i])) this.bad('in \\u hexadecimal character escape');
      hex += this.text[this.i];
    }
    return String.fromCharCode(parseInt(hex, 16));
  }

  string(): string {
    this.i++; // opening quote
    let out = '';
    for (;;) {
      this.more();
      const c = this.text[this.i];
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c < ' ') this.bad('in string literal');
      this.i++;
      out += c === '\\' ? this.escape() : c;
    }
  }

  /** After a value inside an object or array: `,` continues (true), `close` ends (false), anything else is `ctx`. */
  next(close: string, ctx: string): boolean {
    this.skipWs();
    this.more();
    const c = this.text[this.i];
    if (c !== ',' && c !== close) this.bad(ctx);
    this.i++;
    return c === ',';
  }

  /** `i` on `open`: true when the container is empty (and consumed). */
  empty(close: string): boolean {
    this.i++;
    this.skipWs();
    this.more();
    if (this.text[this.i] !== close) return false;
    this.i++;
    return true;
  }

  object(): TGoValue {
    const entries: [string, TGoValue][] = [];
    if (this.empty('}')) return { k: 'obj', entries };
    do {
      this.skipWs();
      this.more();
      if (this.text[this.i] !== '"') this.bad('looking for beginning of object key string');
      const key = this.string();
      this.skipWs();
      this.more();
      if (this.text[this.i] !== ':') this.bad('after object key');
      this.i++;
      entries.push([key, this.value('looking for beginning of value')]);
    } while (this.next('}', 'after object key:value pair'));
    return { k: 'obj', entries };
  }

  array(): TGoValue {
    const items: TGoValue[] = [];
    if (this.empty(']')) return { k: 'arr', items };
    do items.push(this.value('looking for beginning of value'));
    while (this.next(']', 'after array element'));
    return { k: 'arr', items };
  }

  value(ctx: string): TGoValue {
    this.skipWs();
    this.more();
    const c = this.text[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return { k: 'str', v: this.string() };
    if (c === 't') return this.literal('true', { k: 'bool', v: true });
    if (c === 'f') return this.literal('false', { k: 'bool', v: false });
    if (c === 'n') return this.literal('null', { k: 'null' });
    if (c === '-' || isDigit(c)) return this.number();
    return this.bad(ctx);
  }
}

/**
 * Parse the first JSON value of `text` like `json.NewDecoder(r).Decode`:
 * leading whitespace skipped, trailing bytes after the value ignored,
 * empty input → `EOF`, truncated input → `unexpected EOF`.
 */
export function goParse(text: string): TGoValue {
  const r = new GoJsonReader(text);
  r.skipWs();
  if (r.i >= r.n) throw new GoJsonError('EOF');
  return r.value('looking for beginning of value');
}

/** Go's name for the JSON kind in an UnmarshalTypeError (`number 1.5` when the literal is known). */
function kindName(v: TGoValue, withLiteral: boolean): string {
  switch (v.k) {
    case 'obj':
      return 'object';
    case 'arr':
      return 'array';
    case 'str':
      return 'string';
    case 'bool':
      return 'bool';
    case 'num':
      return withLiteral ? `number ${v.text}` : 'number';
    default:
      return 'null';
  }
}

/** Where a value sits, to word the error like Go: `Go struct field <struct>.<path>` or `Go value`. */
export interface TFieldCtx {
  /** Innermost Go struct type name (`Proxy`, `LatencyToxic`, `` for anonymous structs). */
  struct: string;
  /** Dotted JSON field path from the decoded root (`attributes.latency`). */
  field: string;
}

export function typeError(v: TGoValue, goType: string, at: TFieldCtx | null, withLiteral = false): GoJsonError {
  const what = kindName(v, withLiteral);
  if (at) return new GoJsonError(`json: cannot unmarshal ${what} into Go struct field ${at.struct}.${at.field} of type ${goType}`);
  return new GoJsonError(`json: cannot unmarshal ${what} into Go value of type ${goType}`);
}

/**
 * Look up an object's fields the way Go assigns them: keys in order, the last
 * one wins, an exact name match or else a case-insensitive one.
 */
export function goFields(obj: Extract<TGoValue, { k: 'obj' }>, names: readonly string[]): Map<string, TGoValue> {
  const out = new Map<string, TGoValue>();
  for (const [key, val] of obj.entries) {
    const exact = names.find((nm) => nm === key);
    const name = exact ?? names.find((nm) => nm.toLowerCase() === key.toLowerCase());
    if (name !== undefined) out.set(name, val);
  }
  return out;
}

/** Decode into a Go `string`; `null` leaves the current value. */
export function goString(v: TGoValue, cur: string, at: TFieldCtx | null): string {
  if (v.k === 'null') return cur;
  if (v.k !== 'str') throw typeError(v, 'string', at);
  return v.v;
}

/** Decode into a Go `bool`; `null` leaves the current value. */
export function goBool(v: TGoValue, cur: boolean, at: TFieldCtx | null): boolean {
  if (v.k === 'null') return cur;
  if (v.k !== 'bool') throw typeError(v, 'bool', at);
  return v.v;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Decode into a Go `int64`/`int`: only integer literals in range (Go's strconv.ParseInt). */
export function goInt(v: TGoValue, cur: number, at: TFieldCtx | null, goType = 'int64'): number {
  if (v.k === 'null') return cur;
  if (v.k !== 'num') throw typeError(v, goType, at);
  if (!/^-?\d+$/.test(v.text)) throw typeError(v, goType, at, true);
  const big = BigInt(v.text);
  if (big < INT64_MIN || big > INT64_MAX) throw typeError(v, goType, at, true);
  return Number(big);
}

const FLOAT32_MAX = 3.4028234663852886e38;

/** Decode into a Go `float32` (rounded to single precision, out of range refused). */
export function goFloat32(v: TGoValue, cur: number, at: TFieldCtx | null): number {
  if (v.k === 'null') return cur;
  if (v.k !== 'num') throw typeError(v, 'float32', at);
  const x = Number(v.text);
  // ParseFloat(s, 32) fails when the value rounds beyond float32's range.
  if (!Number.isFinite(x) || Math.abs(Math.fround(x)) === Infinity || Math.abs(x) > FLOAT32_MAX * (1 + 2 ** -25)) {
    throw typeError(v, 'float32', at, true);
  }
  return Math.fround(x);
}

/**
 * A float32 written the way Go's encoder writes it: the shortest decimal that
 * round-trips to the same float32 (`0.1`, not `0.10000000149011612`).
 */
export class GoFloat32 {
  constructor(readonly value: number) {}
  toJSON(): string {
    // Replaced by the raw literal in goStringify (JSON.stringify cannot emit raw numbers).
    return `\u0000f32:${formatFloat32(this.value)}\u0000`;
  }
}

export function formatFloat32(x: number): string {
  const f = Math.fround(x);
  if (f === 0) return '0';
  for (let p = 1; p <= 9; p++) {
    const s = f.toPrecision(p);
    if (Math.fround(Number(s)) === f) return String(Number(s));
  }
  return String(f);
}

/**
 * `json.Marshal`'s output: compact, HTML-sensitive characters escaped,
 * float32 values in their shortest form.
 */
export function goStringify(value: unknown): string {
  return JSON.stringify(value)
    .replace(/"\\u0000f32:([^\\]+)\\u0000"/g, '$1')
    .replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Keys sorted the way Go sorts map keys when encoding (bytewise UTF-8). */
export function goSortedKeys(keys: Iterable<string>): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}
