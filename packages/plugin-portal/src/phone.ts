/**
 * Phone numbers as subscribers type them, turned into the one E.164 form RGZ stores and texts.
 *
 * Bénin switched to 10-digit numbers on 30 November 2024: every old 8-digit number got `01` in front
 * (`97 00 00 00` → `01 97 00 00 00`, E.164 `+2290197000000`), and the old forms stopped working about a month
 * later (specs/kkiapay.md "Benin numbering", source A10). libphonenumber-js ≥ 1.11 knows the new plan (checked
 * with 1.13.16: `+2290197000000` is a valid MOBILE, `+22997000000` is invalid), so validation is delegated to it.
 *
 * Decision on old 8-digit numbers: **map them** by prefixing `01`. The renumbering was exactly that mechanical
 * rule, so the mapped number reaches the same SIM; refusing them would only fail people who still type the
 * number they have used for years. The normalised number is returned to the page, which shows it before the code
 * is typed ("Code envoyé au +229 01 97 00 00 00"), so nothing is hidden.
 *
 * Only numbers that can receive an SMS are accepted (libphonenumber's full metadata says MOBILE or
 * FIXED_LINE_OR_MOBILE); a Bénin fixed line (`01 20 …`, `01 21 …`) is refused with its own error code.
 */
import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js/max';

export type PhoneResult =
  | {
      ok: true;
      e164: string;
      country: CountryCode /** The input was an old 8-digit Bénin number, mapped to `01…`. */;
      mapped: boolean /** `+229 01 97 00 00 00` */;
      display: string;
    }
  | { ok: false; code: 'invalid_phone' | 'phone_not_mobile' | 'phone_country_not_allowed'; message: string };

const BJ_OLD = /^\d{8}$/;

/**
 * Normalise what a subscriber typed: spaces, dots, dashes and brackets are ignored; `00` means `+`; a number
 * without country code is read as Bénin; `229` + 8 or 10 digits without `+` is read as international.
 */
export function normalisePhone(raw: string, allowed: readonly string[] = ['BJ']): PhoneResult {
  const compact = raw.trim().replace(/[\s.\-()/\u00a0]/g, '');
  if (!/^\+?\d{6,16}$/.test(compact)) {
    return { ok: false, code: 'invalid_phone', message: `"${raw.slice(0, 40)}" is not a phone number; type the 10 digits of a Bénin number (01 97 00 00 00)` };
  }
  let international = compact.startsWith('+') ? compact : compact.startsWith('00') ? `+${compact.slice(2)}` : null;
  if (!international && /^229(\d{8}|01\d{8})$/.test(compact)) international = `+${compact}`;
  let mapped = false;
  if (international?.startsWith('+229') && BJ_OLD.test(international.slice(4))) {
    international = `+22901${international.slice(4)}`;
    mapped = true;
  }
  let national = international ? null : compact;
  if (national && BJ_OLD.test(national)) {
    national = `01${national}`;
    mapped = true;
  }
  const parsed = international ? parsePhoneNumberFromString(international) : parsePhoneNumberFromString(national as string, 'BJ');
  if (!parsed?.country) {
    return { ok: false, code: 'invalid_phone', message: `"${raw.slice(0, 40)}" is not a valid phone number; Bénin numbers have 10 digits starting with 01` };
  }
  if (!allowed.includes(parsed.country)) {
    return { ok: false, code: 'phone_country_not_allowed', message: `numbers from ${parsed.country} are not accepted here (allowed: ${allowed.join(', ')})` };
  }
  if (!parsed.isValid()) {
    return { ok: false, code: 'invalid_phone', message: `"${raw.slice(0, 40)}" is not a valid phone number; Bénin numbers have 10 digits starting with 01` };
  }
  const type = parsed.getType();
  if (type !== 'MOBILE' && type !== 'FIXED_LINE_OR_MOBILE') {
    return { ok: false, code: 'phone_not_mobile', message: `${parsed.number} is a fixed line and cannot receive an SMS; use a mobile number` };
  }
  return { ok: true, e164: parsed.number, country: parsed.country, mapped, display: parsed.formatInternational() };
}
