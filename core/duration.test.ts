import { describe, expect, it } from 'vitest';
import { FAULTLINE_DURATION, K6_DURATION, formatDuration, parseDuration } from './duration.js';

describe('duration', () => {
  it('reads compound values in both syntaxes (1m30s was undefined for k6 fields)', () => {
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1m30s', K6_DURATION)).toBe(90_000);
    expect(parseDuration('1h5m', FAULTLINE_DURATION)).toBe(3_900_000);
    expect(parseDuration('1.5s')).toBe(1500);
  });

  it('gives a bare number its explicit unit: seconds for faultline, milliseconds for k6', () => {
    expect(parseDuration('500')).toBe(500_000);
    expect(parseDuration(500)).toBe(500_000);
    expect(parseDuration('500', K6_DURATION)).toBe(500);
    expect(parseDuration(500, K6_DURATION)).toBe(500);
  });

  it('keeps each syntax to its units', () => {
    expect(parseDuration('30d')).toBe(30 * 86_400_000);
    expect(parseDuration('30d', K6_DURATION)).toBeUndefined();
    expect(parseDuration('250us', K6_DURATION)).toBeCloseTo(0.25);
    expect(parseDuration('250us')).toBeUndefined();
  });

  it('refuses what is not a duration', () => {
    for (const bad of ['', ' ', 'abc', '10 s', '-5s', '5x', 's', '1m30', Number.NaN, -1, Number.POSITIVE_INFINITY]) {
      expect(parseDuration(bad as string | number), String(bad)).toBeUndefined();
    }
  });

  it('formats what it parses back to the same value', () => {
    for (const ms of [250, 1000, 90_000, 3_900_000, 86_400_000, 90_061_001]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
    expect(formatDuration(90_000)).toBe('1m30s');
  });
});
