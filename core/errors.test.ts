import { describe, expect, it } from 'vitest';
import { toAppError } from './errors.js';

function queryError(cause: Error): Error {
  return new Error('Failed query: select "id" from "faults" where "removed_at" is null\nparams: ', { cause });
}

describe('toAppError', () => {
  it('turns an unreachable database into UNAVAILABLE naming the reason, never the SQL', () => {
    const e = toAppError(queryError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })));
    expect(e.code).toBe('UNAVAILABLE');
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain('database not reachable: connect ECONNREFUSED 127.0.0.1:1');
    expect(e.message).not.toContain('select');
  });

  it('keeps another query failure INTERNAL with the driver reason only', () => {
    const e = toAppError(queryError(Object.assign(new Error('relation "faults" does not exist'), { code: '42P01' })));
    expect(e.code).toBe('INTERNAL');
    expect(e.message).toBe('database query failed: relation "faults" does not exist');
  });

  it('leaves other errors as they were', () => {
    expect(toAppError(new Error('boom'))).toMatchObject({ code: 'INTERNAL', message: 'boom' });
  });
});
