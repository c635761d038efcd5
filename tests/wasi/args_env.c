// args_get, args_sizes_get, environ_get, environ_sizes_get: the guest sees exactly the
// arguments and environment given on the command line (argv[0] is the module path as
// typed), and nothing of the host environment unless asked for with --env NAME.
// Prints the raw view (from the __wasi_* calls) after checking that libc agrees.
//
// CASE: plain
// RUN: {wasm} hello "two words" --dir x -- --env=y
// OUT: ok sizes consistent
// OUT: argc=7
// OUT: argv[0]={wasm}
// OUT: argv[1]=hello
// OUT: argv[2]=two words
// OUT: argv[3]=--dir
// OUT: argv[4]=x
// OUT: argv[5]=--
// OUT: argv[6]=--env=y
// OUT: envc=0
//
// CASE: unicode
// RUN: --env "GREETING=grüße 😀" {wasm} héllo "日本"
// OUT: ok sizes consistent
// OUT: argc=3
// OUT: argv[0]={wasm}
// OUT: argv[1]=héllo
// OUT: argv[2]=日本
// OUT: envc=1
// OUT: env[0]=GREETING=grüße 😀
//
// CASE: argv0_relative
// SETUP: copywasm mod.wasm
// RUN: mod.wasm a
// OUT: ok sizes consistent
// OUT: argc=2
// OUT: argv[0]=mod.wasm
// OUT: argv[1]=a
// OUT: envc=0
//
// CASE: after_dashdash
// RUN: --env A=1 -- {wasm} b
// OUT: ok sizes consistent
// OUT: argc=2
// OUT: argv[0]={wasm}
// OUT: argv[1]=b
// OUT: envc=1
// OUT: env[0]=A=1
//
// CASE: env_values
// RUN: --env FOO=bar --env EMPTY= --env EQ=a=b=c --env "SPACE=x y" {wasm}
// OUT: ok sizes consistent
// OUT: argc=1
// OUT: argv[0]={wasm}
// OUT: envc=4
// OUT: env[0]=FOO=bar
// OUT: env[1]=EMPTY=
// OUT: env[2]=EQ=a=b=c
// OUT: env[3]=SPACE=x\sy
// OUT: ok getenv FOO
//
// CASE: env_inherit
// HOSTENV: WEFT_TEST_INHERITED=from the host
// HOSTENV: WEFT_TEST_SECRET=must not leak
// RUN: --env WEFT_TEST_INHERITED {wasm}
// OUT: ok sizes consistent
// OUT: argc=1
// OUT: argv[0]={wasm}
// OUT: envc=1
// OUT: env[0]=WEFT_TEST_INHERITED=from the host
//
// CASE: no_host_env_leak
// HOSTENV: WEFT_TEST_SECRET=must not leak
// RUN: {wasm}
// OUT: ok sizes consistent
// OUT: argc=1
// OUT: argv[0]={wasm}
// OUT: envc=0
#include <stdlib.h>

#include "wasi_test.h"

int main(int argc, char** argv) {
  __wasi_size_t argc_raw = 0, argv_buf_size = 0;
  if (__wasi_args_sizes_get(&argc_raw, &argv_buf_size)) FAIL("args_sizes_get", "failed");
  char** raw_argv = calloc(argc_raw + 1, sizeof(char*));
  char* argv_buf = malloc(argv_buf_size + 1);
  if (__wasi_args_get((uint8_t**)raw_argv, (uint8_t*)argv_buf)) FAIL("args_get", "failed");

  __wasi_size_t envc = 0, env_buf_size = 0;
  if (__wasi_environ_sizes_get(&envc, &env_buf_size)) FAIL("environ_sizes_get", "failed");
  char** raw_env = calloc(envc + 1, sizeof(char*));
  char* env_buf = malloc(env_buf_size + 1);
  // node (uvwasi) answers EINVAL here when the environment is empty; wasmtime succeeds.
  { int e = __wasi_environ_get((uint8_t**)raw_env, (uint8_t*)env_buf); if (e) FAIL("environ_get", "%s", ErrName(e)); }

  // The sizes must be exact: the strings (each NUL-terminated) fill the buffers.
  size_t used = 0;
  for (__wasi_size_t i = 0; i < argc_raw; i++) {
    if (raw_argv[i] != argv_buf + used) FAIL("sizes consistent", "argv[%lu] not packed", i);
    used += strlen(raw_argv[i]) + 1;
  }
  if (used != argv_buf_size) FAIL("sizes consistent", "argv bytes %zu != %lu", used, argv_buf_size);
  used = 0;
  for (__wasi_size_t i = 0; i < envc; i++) {
    if (raw_env[i] != env_buf + used) FAIL("sizes consistent", "env[%lu] not packed", i);
    used += strlen(raw_env[i]) + 1;
  }
  if (used != env_buf_size) FAIL("sizes consistent", "env bytes %zu != %lu", used, env_buf_size);
  // libc's argv is built from the same calls.
  if ((int)argc_raw != argc) FAIL("sizes consistent", "libc argc %d != %lu", argc, argc_raw);
  for (int i = 0; i < argc; i++)
    if (strcmp(argv[i], raw_argv[i]) != 0) FAIL("sizes consistent", "libc argv[%d] differs", i);
  OK("sizes consistent");

  printf("argc=%lu\n", argc_raw);
  for (__wasi_size_t i = 0; i < argc_raw; i++) printf("argv[%lu]=%s\n", i, raw_argv[i]);
  printf("envc=%lu\n", envc);
  for (__wasi_size_t i = 0; i < envc; i++) printf("env[%lu]=%s\n", i, raw_env[i]);
  const char* foo = getenv("FOO");
  if (foo) CHECK(strcmp(foo, "bar") == 0, "getenv FOO");
  if (getenv("WEFT_TEST_SECRET")) FAIL("no leak", "WEFT_TEST_SECRET visible to the guest");
  return 0;
}
