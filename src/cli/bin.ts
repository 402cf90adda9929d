#!/usr/bin/env node
// The installed `picpac` command (package.json "bin" → dist/cli/bin.js): compiled JavaScript,
// no loader, bundled by scripts/build.mjs with this file's imports (main.ts) and split into one
// chunk per light command, so that `picpac --help` and `picpac stat` start fast (issue 11).
// In the repository, bin/picpac.js runs the TypeScript sources through tsx instead.
// No static imports: `picpac stream --threads N` starts its workers before the CLI's modules
// load (~30 ms sooner; main.ts asks again, and only missing spares start).
const argv = process.argv.slice(2);
if (argv[0] === 'stream') (await import('./stream-prestart.ts')).prestartStreamThreads(argv.slice(1));
const { runCli } = await import('./main.ts');
process.exitCode = await runCli(argv);
