#!/usr/bin/env node
/** Entry point of the `rgz` command. */
import { main, reportError } from '../cli.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.exitCode = reportError(err);
  },
);
