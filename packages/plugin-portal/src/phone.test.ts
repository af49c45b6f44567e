import { describe, expect, it } from 'vitest';
import { normalisePhone } from './phone.js';

describe('normalisePhone (Bénin 10-digit plan, libphonenumber-js metadata)', () => {
  it('accepts the new 10-digit numbers in every usual spelling', () => {
    for (const typed of [
      '+229 01 97 00 00 00',
      '+2290197000000',
      '0197000000',
      '01 97 00 00 00',
      '01.97.00.00.00',
      '00229 01 97 00 00 00',
      '2290197000000',
      '(+229) 01-97-00-00-00',
    ]) {
      expect(normalisePhone(typed), typed).toMatchObject({ ok: true, e164: '+2290197000000', country: 'BJ', mapped: false, display: '+229 01 97 00 00 00' });
    }
  });

  it('maps old 8-digit numbers by prefixing 01, and says so', () => {
    for (const typed of ['97 00 00 00', '97000000', '+229 97 00 00 00', '22997000000', '0022997000000']) {
      expect(normalisePhone(typed), typed).toMatchObject({ ok: true, e164: '+2290197000000', mapped: true });
    }
    expect(normalisePhone('66 12 34 56')).toMatchObject({ ok: true, e164: '+2290166123456', mapped: true });
  });

  it('refuses fixed lines (no SMS) with their own code', () => {
    expect(normalisePhone('01 20 21 00 00')).toMatchObject({ ok: false, code: 'phone_not_mobile' });
    // An old fixed number maps to a fixed line too.
    expect(normalisePhone('21 30 00 00')).toMatchObject({ ok: false, code: 'phone_not_mobile' });
  });

  it('refuses what is not a number, or not a valid one', () => {
    for (const typed of ['', 'abc', '123', '0100000000', '+2290197000000123', '01970000', '+229 02 97 00 00 00', '+229abc']) {
      expect(normalisePhone(typed), typed).toMatchObject({ ok: false, code: 'invalid_phone' });
    }
  });

  it('applies the country allow-list', () => {
    expect(normalisePhone('+228 90 12 34 56')).toMatchObject({ ok: false, code: 'phone_country_not_allowed' });
    expect(normalisePhone('+228 90 12 34 56', ['BJ', 'TG'])).toMatchObject({ ok: true, e164: '+22890123456', country: 'TG' });
  });
});
