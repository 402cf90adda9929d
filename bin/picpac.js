#!/usr/bin/env node
// The `picpac` command: register tsx so Node runs the TypeScript sources directly, then run
// the CLI. Paths resolve from this file, so it works from any working directory.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import(new URL('../src/cli/main.ts', import.meta.url).href);
process.exitCode = await runCli(process.argv.slice(2));
