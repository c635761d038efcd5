// fd_readdir: every entry (including "." and "..") is listed exactly once when the
// listing is read through a small buffer and resumed from the last whole entry's
// d_next cookie; a truncated last entry fills the buffer exactly; cookie 0 restarts;
// entries carry the right d_type; libc's opendir/readdir/rewinddir see the same names.
//
// SETUP: mkdir sb/d/subdir
// SETUP: file sb/d/a.txt a
// SETUP: file sb/d/bb.txt bb
// SETUP: file sb/d/a_rather_long_file_name_to_force_truncation_of_the_entry.txt x
// SETUP: symlink sb/d/link a.txt
// RUN: --dir {tmp}/sb::/sb {wasm}
// OUT: ok created 40 more files
// OUT: ok fd_readdir on the preopen
// OUT: ok fd_readdir whole listing in one call
// OUT: ok entries and types
// OUT: ok fd_readdir small buffer fills it exactly
// OUT: ok fd_readdir resumed with cookies lists each entry once
// OUT: ok fd_readdir cookie 0 restarts
// OUT: ok fd_readdir from the end cookie gives nothing
// OUT: ok fd_readdir on a file refused
// OUT: ok fd_readdir closed fd EBADF
// OUT: ok libc readdir sees 47 entries
// OUT: ok libc rewinddir
// OUT: ok libc readdir empty dir
#include <dirent.h>

#include "wasi_test.h"

#define MAX_NAMES 128
static char names[MAX_NAMES][96];
static int types[MAX_NAMES];
static int count;

// Parses dirents out of buf[0..used); records whole ones; returns the cookie of the
// last whole entry (0 if none) and sets *whole to how many were whole.
static __wasi_dircookie_t Parse(const uint8_t* buf, size_t used, int* whole) {
  size_t off = 0;
  __wasi_dircookie_t last = 0;
  *whole = 0;
  while (off + sizeof(__wasi_dirent_t) <= used) {
    __wasi_dirent_t d;
    memcpy(&d, buf + off, sizeof d);
    if (off + sizeof d + d.d_namlen > used) break;  // truncated name
    if (count >= MAX_NAMES || d.d_namlen >= sizeof names[0]) FAIL("parse", "too many/long");
    memcpy(names[count], buf + off + sizeof d, d.d_namlen);
    names[count][d.d_namlen] = 0;
    types[count] = d.d_type;
    count++;
    (*whole)++;
    last = d.d_next;
    off += sizeof d + d.d_namlen;
  }
  return last;
}

static int Find(const char* name) {
  int found = -1;
  for (int i = 0; i < count; i++) {
    if (strcmp(names[i], name) == 0) {
      if (found >= 0) FAIL("duplicate", "%s listed twice", name);
      found = i;
    }
  }
  return found;
}

int main(void) {
  __wasi_fd_t sb = PreopenFd("/sb");
  __wasi_fd_t fd;
  for (int i = 0; i < 40; i++) {
    char name[32];
    snprintf(name, sizeof name, "d/file%02d", i);
    if (OpenAt(sb, name, __WASI_OFLAGS_CREAT, RIGHTS_ALL, 0, &fd) || __wasi_fd_close(fd))
      FAIL("create", "%s", name);
  }
  OK("created 40 more files");
  const int total = 40 + 5 + 2;  // + a.txt bb.txt long subdir link + . ..

  {
    // The preopen itself can be listed.
    static uint8_t top[4096];
    __wasi_size_t top_used = 0;
    int w = 0;
    if (__wasi_fd_readdir(sb, top, sizeof top, 0, &top_used)) FAIL("readdir preopen", "failed");
    Parse(top, top_used, &w);
    CHECK(Find("d") >= 0 && types[Find("d")] == __WASI_FILETYPE_DIRECTORY, "fd_readdir on the preopen");
    count = 0;
  }
  if (OpenAt(sb, "d", __WASI_OFLAGS_DIRECTORY, RIGHTS_READ_ONLY, 0, &fd)) FAIL("open d", "failed");
  static uint8_t big[16384];
  __wasi_size_t used = 0;
  int whole = 0;
  EXPECT_OK(__wasi_fd_readdir(fd, big, sizeof big, 0, &used), "fd_readdir whole listing in one call");
  count = 0;
  Parse(big, used, &whole);
  if (count != total) FAIL("whole listing", "%d entries, want %d (used %lu)", count, total, used);
  {
    int dot = Find("."), dotdot = Find(".."), a = Find("a.txt"), sub = Find("subdir"),
        link = Find("link"), f39 = Find("file39");
    CHECK(dot >= 0 && dotdot >= 0 && a >= 0 && sub >= 0 && link >= 0 && f39 >= 0 &&
              types[dot] == __WASI_FILETYPE_DIRECTORY && types[a] == __WASI_FILETYPE_REGULAR_FILE &&
              types[sub] == __WASI_FILETYPE_DIRECTORY &&
              types[link] == __WASI_FILETYPE_SYMBOLIC_LINK,
          "entries and types");
  }

  // A 50-byte buffer holds one 24-byte header plus a name, then part of the next: the
  // call must report exactly 50 bytes used (the spec's signal that there is more).
  static uint8_t small[50];
  CHECK(__wasi_fd_readdir(fd, small, sizeof small, 0, &used) == 0 && used == sizeof small,
        "fd_readdir small buffer fills it exactly");

  // Resume through a 128-byte buffer (the longest entry is 24 + 62 bytes): each call
  // starts at the d_next of the last whole entry of the previous one.
  static uint8_t mid[128];
  count = 0;
  __wasi_dircookie_t cookie = 0;
  int calls = 0;
  for (;; calls++) {
    if (calls > 1000) FAIL("resume", "no progress");
    if (__wasi_fd_readdir(fd, mid, sizeof mid, cookie, &used)) FAIL("resume", "readdir failed");
    __wasi_dircookie_t last = Parse(mid, used, &whole);
    if (used < sizeof mid) break;  // the end of the directory
    if (whole == 0) FAIL("resume", "an entry does not fit in %zu bytes", sizeof mid);
    cookie = last;
  }
  for (int i = 0; i < 40; i++) {
    char name[32];
    snprintf(name, sizeof name, "file%02d", i);
    if (Find(name) < 0) FAIL("resume", "%s missing", name);
  }
  if (count != total || calls < 10 || Find(".") < 0 || Find("..") < 0 || Find("bb.txt") < 0 ||
      Find("subdir") < 0 || Find("link") < 0 || Find("a.txt") < 0 ||
      Find("a_rather_long_file_name_to_force_truncation_of_the_entry.txt") < 0)
    FAIL("resume", "%d entries in %d calls, want %d", count, calls, total);
  OK("fd_readdir resumed with cookies lists each entry once");

  count = 0;
  if (__wasi_fd_readdir(fd, big, sizeof big, 0, &used)) FAIL("restart", "failed");
  Parse(big, used, &whole);
  CHECK(count == total, "fd_readdir cookie 0 restarts");
  {
    // Resuming from the last entry's d_next (the end of the listing) gives nothing.
    __wasi_dircookie_t end_cookie = 0;
    size_t off = 0;
    while (off + sizeof(__wasi_dirent_t) <= used) {
      __wasi_dirent_t d;
      memcpy(&d, big + off, sizeof d);
      end_cookie = d.d_next;
      off += sizeof d + d.d_namlen;
    }
    __wasi_size_t used2 = 99;
    CHECK(__wasi_fd_readdir(fd, big, sizeof big, end_cookie, &used2) == 0 && used2 == 0,
          "fd_readdir from the end cookie gives nothing");
  }
  {
    __wasi_fd_t f;
    if (OpenAt(sb, "d/a.txt", 0, RIGHTS_READ_ONLY, 0, &f)) FAIL("open a.txt", "failed");
    int e = __wasi_fd_readdir(f, big, sizeof big, 0, &used);
    // wasmtime: EBADF (not a directory descriptor); POSIX getdents: ENOTDIR.
    if (e != __WASI_ERRNO_BADF && e != __WASI_ERRNO_NOTDIR && e != __WASI_ERRNO_NOTCAPABLE)
      FAIL("fd_readdir on a file refused", "got %s", ErrName(e));
    OK("fd_readdir on a file refused");
    if (__wasi_fd_close(f)) FAIL("close", "failed");
  }
  if (__wasi_fd_close(fd)) FAIL("close", "failed");
  EXPECT_ERRNO(__wasi_fd_readdir(fd, big, sizeof big, 0, &used), __WASI_ERRNO_BADF,
               "fd_readdir closed fd EBADF");

  DIR* d = opendir("/sb/d");
  if (!d) FAIL("opendir", "failed");
  int n = 0, saw_long = 0;
  struct dirent* e;
  while ((e = readdir(d)) != NULL) {
    n++;
    if (strcmp(e->d_name, "a_rather_long_file_name_to_force_truncation_of_the_entry.txt") == 0)
      saw_long = e->d_type == DT_REG;
  }
  if (!saw_long) FAIL("libc readdir", "long name missing");
  CHECK(n == total, "libc readdir sees 47 entries");
  rewinddir(d);
  int again = 0;
  while (readdir(d)) again++;
  CHECK(again == total && closedir(d) == 0, "libc rewinddir");
  d = opendir("/sb/d/subdir");
  n = 0;
  while (d && (e = readdir(d)) != NULL) n++;
  CHECK(d && n == 2 && closedir(d) == 0, "libc readdir empty dir");
  return 0;
}
