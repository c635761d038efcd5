// A module importing a real WASI function with the wrong signature (fd_close taking an
// i64): weft refuses it before running anything (exit 1) and names the import.
//
// RUN: {wasm}
// EXIT: 1
// ERR-HAS: fd_close
#include <stdint.h>
#include <stdio.h>

int32_t bad_fd_close(int64_t)
    __attribute__((__import_module__("wasi_snapshot_preview1"), __import_name__("fd_close")));

int main(void) {
  printf("must not run\n");
  return bad_fd_close(1);
}
