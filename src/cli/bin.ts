#!/usr/bin/env node
// The installed `picpac` command (package.json "bin" → dist/cli/bin.js): compiled JavaScript,
// no loader, bundled by scripts/build.mjs with this file's imports (main.ts) and split into one
// chunk per light command, so that `picpac --help` and `picpac stat` start fast (issue 11).
// In the repository, bin/picpac.js runs the TypeScript sources through tsx instead.
import { runCli } from './main.ts';

process.exitCode = await runCli(process.argv.slice(2));
