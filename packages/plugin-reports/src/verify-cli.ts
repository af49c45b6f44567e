#!/usr/bin/env node
/**
 * `rgz-invoice-verify FILE.pdf --public-key KEY.pem [--log FILE.json|URL] [--token T]`: the same check as
 * `rgz invoices verify`, for a reseller who has no RGZ server and no config — only Node.js, the PDF and the operator's
 * public key. Run from a checkout: `node --import tsx packages/plugin-reports/src/verify-cli.ts …`; from the built
 * package: `node node_modules/@rgz/plugin-reports/dist/verify-cli.js …`.
 */
import { runVerify, VERIFY_USAGE } from './verify.js';

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(`${VERIFY_USAGE.replace('rgz invoices verify', 'rgz-invoice-verify')}\n`);
  process.exit(0);
}
const code = await runVerify(argv, { out: (s) => process.stdout.write(`${s}\n`), err: (s) => process.stderr.write(`${s}\n`) });
process.exit(code);
