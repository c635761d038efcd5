// Runs a WASI preview1 program under node's built-in node:wasi, the second
// opinion run.py compares weft against.
//
// Usage: node --no-warnings node_wasi.mjs PROG.wasm [ARGS...]
// The guest sees the current directory preopened as "." (as `weft run --dir .`
// does), inherits stdio, gets no environment, and its exit status becomes
// this process's exit status.
import { readFile } from 'node:fs/promises';
import { argv, cwd, exit } from 'node:process';
import { WASI } from 'node:wasi';

if (argv.length < 3) {
  console.error('usage: node node_wasi.mjs PROG.wasm [ARGS...]');
  exit(2);
}
const wasi = new WASI({
  version: 'preview1',
  args: argv.slice(2),
  env: {},
  preopens: { '.': cwd() },
  returnOnExit: true,
});
const module = await WebAssembly.compile(await readFile(argv[2]));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
exit(wasi.start(instance));
