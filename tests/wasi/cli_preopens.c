// `weft run --dir`: preopens get fds 3, 4, ... in command-line order with their guest
// names; nested preopens (`--dir a::/ --dir b::/share`) both work through wasi-libc's
// longest-prefix match; `--dir HOST` alone maps HOST under its own name; relative
// paths resolve against "/" (wasi-libc's initial cwd).
//
// SETUP: file a/hello.txt from a
// SETUP: file b/x.txt from b
// SETUP: file c/c.txt from c
// RUN: --dir {tmp}/a::/ --dir {tmp}/b::/share --dir c {wasm} c
// OUT: ok fd 3 is /
// OUT: ok fd 4 is /share
// OUT: ok fd 5 is c
// OUT: ok no fd 6
// OUT: ok read /hello.txt
// OUT: ok read /share/x.txt
// OUT: ok read relative hello.txt
// OUT: ok read c/c.txt
// OUT: ok write /share/new.txt
// OUT: ok list /share
// OUT: ok chdir /share then relative
// FILE: b/new.txt written
// ABSENT: a/share
#include <dirent.h>
#include <unistd.h>

#include "wasi_test.h"

static int Named(__wasi_fd_t fd, const char* want) {
  __wasi_prestat_t ps;
  char name[512];
  if (__wasi_fd_prestat_get(fd, &ps) || ps.u.dir.pr_name_len >= sizeof name) return 0;
  if (__wasi_fd_prestat_dir_name(fd, (uint8_t*)name, ps.u.dir.pr_name_len)) return 0;
  name[ps.u.dir.pr_name_len] = 0;
  return strcmp(name, want) == 0;
}

int main(int argc, char** argv) {
  CHECK(Named(3, "/"), "fd 3 is /");
  CHECK(Named(4, "/share"), "fd 4 is /share");
  CHECK(argc > 1 && Named(5, argv[1]), "fd 5 is c");
  __wasi_prestat_t ps;
  CHECK(__wasi_fd_prestat_get(6, &ps) == __WASI_ERRNO_BADF, "no fd 6");
  CHECK(FileIs("/hello.txt", "from a"), "read /hello.txt");
  CHECK(FileIs("/share/x.txt", "from b"), "read /share/x.txt");
  CHECK(FileIs("hello.txt", "from a"), "read relative hello.txt");
  CHECK(FileIs("c/c.txt", "from c"), "read c/c.txt");
  FILE* f = fopen("/share/new.txt", "w");
  CHECK(f && fputs("written", f) >= 0 && fclose(f) == 0, "write /share/new.txt");
  DIR* d = opendir("/share");
  int saw_x = 0, saw_new = 0;
  struct dirent* e;
  while (d && (e = readdir(d))) {
    saw_x += strcmp(e->d_name, "x.txt") == 0;
    saw_new += strcmp(e->d_name, "new.txt") == 0;
  }
  CHECK(d && saw_x == 1 && saw_new == 1 && closedir(d) == 0, "list /share");
  CHECK(chdir("/share") == 0 && FileIs("x.txt", "from b"), "chdir /share then relative");
  return 0;
}
