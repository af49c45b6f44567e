#!/usr/bin/env node
/** The `create-rgz-plugin` binary (`npx create-rgz-plugin NAME --point sms`, `npm create rgz-plugin NAME -- --point sms`). */
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
