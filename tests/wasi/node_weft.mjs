// A stand-in for `weft run` built on node's `node:wasi` (uvwasi), used only as a second
// opinion on what the guest programs in tests/wasi expect:
//   node tests/wasi/node_weft.mjs run [--dir HOST[::GUEST]] [--env NAME[=VAL]]
//        [--invoke NAME] MODULE.wasm [ARGS...]
// or through the driver: run_guest.py ... --engine node tests/wasi/node_weft.mjs
// uvwasi differs from wasmtime (the target) in places; the guest sources say where.
// Read-only preopens (`:ro`) are accepted but NOT enforced by node.
//
// Where node v20 (uvwasi) answers differently from wasmtime, the tests follow wasmtime.
// Seen while writing them: environ_get with an empty environment -> EINVAL (wasmtime:
// success); fdstat fs_flags carry host O_* bits; timestamps set with second precision;
// fd_allocate succeeds (wasmtime: ENOTSUP); invalid oflags accepted (wasmtime: EINVAL);
// fd_prestat_get(stdout) -> EINVAL (EBADF); fd_prestat_dir_name short buffer -> ENOBUFS
// (ENAMETOOLONG); path_readlink short buffer -> error (wasmtime truncates); ABSTIME clock
// subscriptions never fire; fd subscriptions on regular files -> EPERM; readdir lists no
// "." and ".."; symlinks pointing out of a preopen are followed and `..` that re-enters
// is allowed (wasmtime: EPERM); proc_raise really raises (ENOTSUP); sock_* on files ->
// ENOTCAPABLE (ENOTSOCK); fd_seek(stdout) -> ENOTCAPABLE (ESPIPE); wild guest pointers
// -> an errno instead of a trap; invalid UTF-8 paths accepted (EILSEQ).
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';
import process from 'node:process';

const argv = process.argv.slice(2);
if (argv[0] === 'run') argv.shift();
const preopens = {};
const env = {};
let invoke = null;
let i = 0;
for (; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--') { i++; break; }
  if (!a.startsWith('--')) break;
  const [flag, inline] = a.includes('=') && !a.startsWith('--env') ? a.split(/=(.*)/s) : [a, undefined];
  const value = inline ?? argv[++i];
  if (flag === '--dir') {
    let spec = value;
    if (spec.endsWith('::ro') || spec.endsWith(':ro')) spec = spec.replace(/::?ro$/, '');
    const [host, guest] = spec.includes('::') ? spec.split('::') : [spec, spec];
    preopens[guest] = host;
  } else if (a === '--env') {
    const eq = value.indexOf('=');
    if (eq < 0) { if (value in process.env) env[value] = process.env[value]; }
    else env[value.slice(0, eq)] = value.slice(eq + 1);
  } else if (flag === '--invoke') {
    invoke = value;
  } else {
    console.error(`node_weft: unknown option ${a}`);
    process.exit(2);
  }
}
const modulePath = argv[i];
const guestArgs = [modulePath, ...argv.slice(i + 1)];
const wasi = new WASI({ version: 'preview1', args: guestArgs, env, preopens, returnOnExit: true });
let code = 0;
try {
  const module = await WebAssembly.compile(readFileSync(modulePath));
  const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
  if (invoke) {
    if (instance.exports._initialize) wasi.initialize(instance);
    else wasi.start(instance);
    const results = instance.exports[invoke](...argv.slice(i + 1).map(Number));
    if (results !== undefined) console.log(String(results));
  } else {
    code = wasi.start(instance);
  }
} catch (e) {
  console.error(`Error: failed to run main module \`${modulePath}\`\n\nCaused by:\n    ${e.message}`);
  code = 134;
}
process.exitCode = code;
