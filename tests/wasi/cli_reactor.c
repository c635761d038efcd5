// A reactor (built with -mexec-model=reactor: exports _initialize, no _start) run with
// `weft run --invoke NAME MODULE ARGS...`: _initialize runs first (constructors, so
// libc works), the arguments are parsed by the export's parameter types and the result
// is printed on its own line as `wasmtime run --invoke` does; a void export prints
// nothing; the exported function can use WASI (stdout, environment).
//
// CFLAGS: -mexec-model=reactor
//
// CASE: add
// RUN: --invoke add {wasm} 2 40
// OUT: 42
//
// CASE: i64_negative
// RUN: --invoke mul64 {wasm} -3 5000000000
// OUT: -15000000000
//
// CASE: void_prints
// RUN: --invoke greet {wasm}
// OUT: hello from reactor
//
// CASE: env
// RUN: --env X=abcd --invoke env_len {wasm}
// OUT: 4
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int initialized;

__attribute__((constructor)) static void Init(void) { initialized = 1; }

// If _initialize did not run, every result is off by 1000.
__attribute__((export_name("add"))) int32_t Add(int32_t a, int32_t b) {
  return a + b + (initialized ? 0 : 1000);
}

__attribute__((export_name("mul64"))) int64_t Mul64(int64_t a, int64_t b) {
  return a * b + (initialized ? 0 : 1000);
}

__attribute__((export_name("greet"))) void Greet(void) {
  printf("hello from reactor%s\n", initialized ? "" : " (not initialized)");
  fflush(stdout);
}

__attribute__((export_name("env_len"))) int32_t EnvLen(void) {
  const char* x = getenv("X");
  return x ? (int32_t)strlen(x) : -1;
}
