/** Go encoding/json compatibility: the exact messages Toxiproxy answers with, and Go's output format. */
import { describe, expect, it } from 'vitest';
import { formatFloat32, goFloat32, goInt, goParse, goStringify, GoFloat32, GoJsonError } from './gojson.js';

function parseError(text: string): string {
  try {
    goParse(text);
  } catch (e) {
    if (e instanceof GoJsonError) return e.message;
    throw e;
  }
  return 'no error';
}

describe('goParse', () => {
  it('words syntax errors like Go’s decoder', () => {
    expect(parseError('')).toBe('EOF');
    expect(parseError('   \n')).toBe('EOF');
    expect(parseError('{"name": "bad json",')).toBe('unexpected EOF');
    expect(parseError('{"a" 1}')).toBe("invalid character '1' after object key");
    expect(parseError('{"a": 1 "b"')).toBe("invalid character '\"' after object key:value pair");
    expect(parseError('{a: 1}')).toBe("invalid character 'a' looking for beginning of object key string");
    expect(parseError('[1 2]')).toBe("invalid character '2' after array element");
    expect(parseError('nope')).toBe("invalid character 'o' in literal null (expecting 'u')");
    expect(parseError('xyz')).toBe("invalid character 'x' looking for beginning of value");
    expect(parseError('{"a": -x}')).toBe("invalid character 'x' in numeric literal");
    expect(parseError('{"a": 1.x}')).toBe("invalid character 'x' after decimal point in numeric literal");
    expect(parseError('{"a": "\\q"}')).toBe("invalid character 'q' in string escape code");
    expect(parseError('{"a": "x\ny"}')).toBe("invalid character '\\n' in string literal");
  });

  it('reads only the first value, like json.Decoder', () => {
    expect(goParse('{"a":1} trailing garbage')).toEqual({ k: 'obj', entries: [['a', { k: 'num', text: '1' }]] });
  });
});

describe('typed decoding', () => {
  const at = { struct: 'LatencyToxic', field: 'attributes.latency' };
  it('accepts integer literals only for int64, with Go’s message otherwise', () => {
    expect(goInt({ k: 'num', text: '-250' }, 0, at)).toBe(-250);
    expect(() => goInt({ k: 'num', text: '1.5' }, 0, at)).toThrow(
      'json: cannot unmarshal number 1.5 into Go struct field LatencyToxic.attributes.latency of type int64',
    );
    expect(() => goInt({ k: 'str', v: 'abc' }, 0, at)).toThrow(
      'json: cannot unmarshal string into Go struct field LatencyToxic.attributes.latency of type int64',
    );
    expect(() => goInt({ k: 'num', text: '9223372036854775808' }, 0, at)).toThrow('number 9223372036854775808');
    expect(goInt({ k: 'null' }, 7, at)).toBe(7);
  });

  it('rounds toxicity to float32 and writes it back in the shortest form', () => {
    const t = goFloat32({ k: 'num', text: '0.1' }, 1, null);
    expect(t).toBe(Math.fround(0.1));
    expect(formatFloat32(t)).toBe('0.1');
    expect(formatFloat32(Math.fround(1 / 3))).toBe('0.33333334');
    expect(goStringify({ toxicity: new GoFloat32(Math.fround(0.25)) })).toBe('{"toxicity":0.25}');
    expect(() => goFloat32({ k: 'num', text: '1e39' }, 1, null)).toThrow('cannot unmarshal number 1e39');
  });

  it('escapes HTML-sensitive characters like json.Marshal', () => {
    expect(goStringify({ name: 'orders->payments & <x>' })).toBe('{"name":"orders-\\u003epayments \\u0026 \\u003cx\\u003e"}');
  });
});
