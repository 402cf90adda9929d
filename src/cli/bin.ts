#!/usr/bin/env node
// The installed `picpac` command (package.json "bin" → dist/cli/bin.js): compiled JavaScript,
// no loader. In the repository, bin/picpac.js runs the TypeScript sources through tsx instead.
import { runCli } from './main.ts';

process.exitCode = await runCli(process.argv.slice(2));
