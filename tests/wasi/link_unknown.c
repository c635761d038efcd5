// A WASI module importing a function wasi_snapshot_preview1 does not have: weft refuses
// it before running anything (exit 1) and names the module and the field.
//
// RUN: {wasm}
// EXIT: 1
// ERR-HAS: wasi_snapshot_preview1
// ERR-HAS: fd_does_not_exist
#include <stdint.h>
#include <stdio.h>

int32_t fd_does_not_exist(int32_t)
    __attribute__((__import_module__("wasi_snapshot_preview1"), __import_name__("fd_does_not_exist")));

int main(void) {
  printf("must not run\n");
  return fd_does_not_exist(1);
}
