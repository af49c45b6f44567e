/** Small text helpers shared by the channels. */

/** At most `max` characters (code points), ending with `…` when cut. */
export function truncate(text: string, max: number | undefined): string {
  if (max === undefined) return text;
  const chars = [...text];
  if (chars.length <= max) return text;
  return `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** One line: CR/LF and tabs become spaces (subjects and headers never carry a line break). */
export function oneLine(text: string): string {
  return text
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/\s{2,}/g, ' ')
    .trim();
}

/** A pragmatic address check: one @, no spaces or line breaks, a dot in the domain. */
export const EMAIL_ADDRESS = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;
