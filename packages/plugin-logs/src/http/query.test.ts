import { describe, expect, it } from 'vitest';
import { CriteriaError, toQuery } from './query.js';

const now = Date.parse('2026-11-25T12:00:00Z');

describe('search criteria', () => {
  it('durations and ISO times; the default window is the 24 h before `until`', () => {
    expect(toQuery({}, 1000, now)).toMatchObject({ since: new Date('2026-11-24T12:00:00Z'), until: undefined, limit: 100 });
    expect(toQuery({ since: '15m' }, 1000, now).since).toEqual(new Date('2026-11-25T11:45:00Z'));
    expect(toQuery({ until: '2026-11-01T00:00:00Z' }, 1000, now).since).toEqual(new Date('2026-10-31T00:00:00Z'));
    expect(toQuery({ since: '2026-11-20', limit: '5000' }, 1000, now)).toMatchObject({ since: new Date('2026-11-20T00:00:00Z'), limit: 1000 });
  });
  it('index kinds and empty values', () => {
    expect(toQuery({ index: 'api, radius', mac: ' ', subscriber: '' }, 1000, now)).toMatchObject({
      indices: ['api', 'radius'],
      mac: undefined,
      subscriber: undefined,
    });
  });
  it('errors say how to fix', () => {
    expect(() => toQuery({ since: 'yesterday' }, 1000, now)).toThrow(CriteriaError);
    expect(() => toQuery({ index: 'logs' }, 1000, now)).toThrow(/not one of api, radius, cpe, netflow/);
    expect(() => toQuery({ limit: '0' }, 1000, now)).toThrow(/positive integer/);
  });
});
