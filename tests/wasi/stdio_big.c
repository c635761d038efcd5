// Stdout and stdin beyond a pipe's buffer: 1 MiB written to stdout arrives complete and
// in order; stdin redirected from a regular file is read to the end (and copied out).
//
// CASE: big_stdout
// RUN: {wasm} big
// OUT-BYTES: 1048576
// OUT-HAS: 0000000\n0000001\n
// OUT-HAS: 0131071\n
//
// CASE: stdin_from_file
// SETUP: file in.txt first line\nsecond line\nno newline at the end
// STDIN-FILE: in.txt
// RUN: {wasm} cat
// OUT: first line
// OUT: second line
// OUT: no newline at the end
// OUT: ok 44 bytes
//
// CASE: stdin_pipe
// STDIN: piped
// RUN: {wasm} cat
// OUT: piped
// OUT: ok 6 bytes
#include "wasi_test.h"

int main(int argc, char** argv) {
  const char* what = argc > 1 ? argv[1] : "";
  if (strcmp(what, "big") == 0) {
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    for (int i = 0; i < 131072; i++) printf("%07d\n", i);
    return 0;
  }
  if (strcmp(what, "cat") == 0) {
    char buf[4096];
    size_t total = 0, n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
      fwrite(buf, 1, n, stdout);
      total += n;
    }
    if (ferror(stdin)) FAIL("cat", "read error");
    if (total && buf[(total - 1) % sizeof buf] != '\n') printf("\n");
    printf("ok %zu bytes\n", total);
    return 0;
  }
  return 2;
}
