// `weft run --dir . MODULE`, the common way to give a program its working directory:
// the guest opens paths relative to "." (wasi-libc resolves them through the "."
// preopen), creates files there, and cannot climb above it.
//
// SETUP: file work/rel.txt relative
// SETUP: file work/sub/x.txt in sub
// SETUP: file outside.txt above
// RUN: --dir work::. {wasm}
// OUT: ok fd 3 is .
// OUT: ok read rel.txt
// OUT: ok read ./sub/x.txt
// OUT: ok create out.txt
// OUT: ok ../outside.txt is out of reach
// FILE: work/out.txt made by the guest
// FILE: outside.txt above
#include "wasi_test.h"

int main(void) {
  __wasi_prestat_t ps;
  char name[8] = {0};
  CHECK(__wasi_fd_prestat_get(3, &ps) == 0 && ps.u.dir.pr_name_len == 1 &&
            __wasi_fd_prestat_dir_name(3, (uint8_t*)name, 1) == 0 && strcmp(name, ".") == 0,
        "fd 3 is .");
  CHECK(FileIs("rel.txt", "relative"), "read rel.txt");
  CHECK(FileIs("./sub/x.txt", "in sub"), "read ./sub/x.txt");
  FILE* f = fopen("out.txt", "w");
  CHECK(f && fputs("made by the guest", f) >= 0 && fclose(f) == 0, "create out.txt");
  CHECK(fopen("../outside.txt", "r") == NULL && fopen("../outside.txt", "w") == NULL,
        "../outside.txt is out of reach");
  return 0;
}
