// A read-only preopen (`--dir HOST::GUEST:ro`, weft's extension; wasmtime's library
// has read-only DirPerms/FilePerms and answers EPERM) refuses every write: creating,
// truncating, writing, mkdir, rmdir, unlink, rename (out of, into and within it),
// link, symlink, set_times, set_size, also through a directory opened below it.
// Reading, stat and readdir work. The driver checks the tree is untouched.
//
// SETUP: file ro/file.txt read me
// SETUP: mkdir ro/emptydir
// SETUP: file ro/sub/deep.txt deep
// SETUP: mkdir rw
// SETUP: mtime 1000000000 ro/file.txt
// RUN: --dir {tmp}/ro::/ro:ro --dir {tmp}/rw::/rw {wasm}
// OUT: ok read a file
// OUT: ok path_filestat_get
// OUT: ok fd_readdir
// OUT: ok create refused
// OUT: ok create with EXCL refused
// OUT: ok open for writing refused
// OUT: ok truncate refused
// OUT: ok fd_write on a file opened for reading refused
// OUT: ok fd_filestat_set_size refused
// OUT: ok fd_filestat_set_times refused
// OUT: ok path_create_directory refused
// OUT: ok path_remove_directory refused
// OUT: ok path_unlink_file refused
// OUT: ok path_rename within refused
// OUT: ok path_rename out to rw refused
// OUT: ok path_rename in from rw refused
// OUT: ok path_link within refused
// OUT: ok path_link in from rw refused
// OUT: ok path_symlink refused
// OUT: ok path_filestat_set_times refused
// OUT: ok subdirectory is read-only too
// OUT: ok rw preopen still writable
// OUT: ok libc fopen for writing fails
// UNTOUCHED: ro
// FILE: rw/in.txt writable
#include <errno.h>

#include "wasi_test.h"

// wasmtime answers EPERM; ENOTCAPABLE (a missing right) is the other answer a
// capability runtime gives. EROFS is not accepted: the host fs is not read-only.
#define EXPECT_REFUSED(call, label) \
  EXPECT_ERRNO2((call), __WASI_ERRNO_PERM, __WASI_ERRNO_NOTCAPABLE, (label))

int main(void) {
  __wasi_fd_t ro = PreopenFd("/ro"), rw = PreopenFd("/rw"), fd;
  char buf[256];
  size_t got;
  __wasi_filestat_t st;

  CHECK(OpenAt(ro, "file.txt", 0, RIGHTS_READ_ONLY, 0, &fd) == 0 &&
            ReadAll(fd, buf, sizeof buf, &got) == 0 && strcmp(buf, "read me") == 0,
        "read a file");
  CHECK(__wasi_path_filestat_get(ro, 0, "sub/deep.txt", &st) == 0 && st.size == 4,
        "path_filestat_get");
  {
    __wasi_fd_t d;
    __wasi_size_t used;
    static uint8_t dbuf[4096];
    CHECK(OpenAt(ro, ".", __WASI_OFLAGS_DIRECTORY, RIGHTS_READ_ONLY, 0, &d) == 0 &&
              __wasi_fd_readdir(d, dbuf, sizeof dbuf, 0, &used) == 0 && used > 3 * 24 &&
              __wasi_fd_close(d) == 0,
          "fd_readdir");
  }
  __wasi_fd_t tmp;
  EXPECT_REFUSED(OpenAt(ro, "new.txt", __WASI_OFLAGS_CREAT, RIGHTS_ALL, 0, &tmp), "create refused");
  EXPECT_REFUSED(OpenAt(ro, "new2.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, RIGHTS_ALL, 0, &tmp),
                 "create with EXCL refused");
  {
    // Either the open for writing is refused, or the file opens read-only and the
    // write is refused.
    int e = OpenAt(ro, "file.txt", 0, RIGHTS_ALL, 0, &tmp);
    if (e == 0) {
      __wasi_ciovec_t iov = {(const uint8_t*)"X", 1};
      __wasi_size_t n;
      e = __wasi_fd_write(tmp, &iov, 1, &n);
      if (e == 0) FAIL("open for writing refused", "the write went through");
      if (e != __WASI_ERRNO_BADF && e != __WASI_ERRNO_PERM && e != __WASI_ERRNO_NOTCAPABLE)
        FAIL("open for writing refused", "write: %s", ErrName(e));
      (void)!__wasi_fd_close(tmp);
    } else if (e != __WASI_ERRNO_PERM && e != __WASI_ERRNO_NOTCAPABLE) {
      FAIL("open for writing refused", "open: %s", ErrName(e));
    }
    OK("open for writing refused");
  }
  EXPECT_REFUSED(OpenAt(ro, "file.txt", __WASI_OFLAGS_TRUNC, RIGHTS_ALL, 0, &tmp), "truncate refused");
  {
    __wasi_ciovec_t iov = {(const uint8_t*)"X", 1};
    __wasi_size_t n;
    int e = __wasi_fd_write(fd, &iov, 1, &n);
    if (e != __WASI_ERRNO_BADF && e != __WASI_ERRNO_PERM && e != __WASI_ERRNO_NOTCAPABLE)
      FAIL("fd_write on a file opened for reading refused", "%s", ErrName(e));
    OK("fd_write on a file opened for reading refused");
    e = __wasi_fd_filestat_set_size(fd, 0);
    if (e == 0) FAIL("fd_filestat_set_size refused", "succeeded");
    OK("fd_filestat_set_size refused");
    e = __wasi_fd_filestat_set_times(fd, 5, 5, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM);
    if (e == 0) FAIL("fd_filestat_set_times refused", "succeeded");
    OK("fd_filestat_set_times refused");
    (void)!__wasi_fd_close(fd);
  }
  EXPECT_REFUSED(__wasi_path_create_directory(ro, "newdir"), "path_create_directory refused");
  EXPECT_REFUSED(__wasi_path_remove_directory(ro, "emptydir"), "path_remove_directory refused");
  EXPECT_REFUSED(__wasi_path_unlink_file(ro, "file.txt"), "path_unlink_file refused");
  EXPECT_REFUSED(__wasi_path_rename(ro, "file.txt", ro, "renamed.txt"), "path_rename within refused");
  EXPECT_REFUSED(__wasi_path_rename(ro, "file.txt", rw, "stolen.txt"), "path_rename out to rw refused");
  if (OpenAt(rw, "in.txt", __WASI_OFLAGS_CREAT, RIGHTS_ALL, 0, &tmp) || WriteAll(tmp, "writable") ||
      __wasi_fd_close(tmp))
    FAIL("create rw/in.txt", "failed");
  EXPECT_REFUSED(__wasi_path_rename(rw, "in.txt", ro, "in.txt"), "path_rename in from rw refused");
  EXPECT_REFUSED(__wasi_path_link(ro, 0, "file.txt", ro, "hard.txt"), "path_link within refused");
  EXPECT_REFUSED(__wasi_path_link(rw, 0, "in.txt", ro, "hard.txt"), "path_link in from rw refused");
  EXPECT_REFUSED(__wasi_path_symlink("file.txt", ro, "link"), "path_symlink refused");
  EXPECT_REFUSED(__wasi_path_filestat_set_times(ro, 0, "file.txt", 5, 5,
                                                __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM),
                 "path_filestat_set_times refused");
  {
    __wasi_fd_t sub;
    if (OpenAt(ro, "sub", __WASI_OFLAGS_DIRECTORY, RIGHTS_READ_ONLY, 0, &sub))
      FAIL("open sub", "failed");
    int e1 = OpenAt(sub, "x.txt", __WASI_OFLAGS_CREAT, RIGHTS_ALL, 0, &tmp);
    int e2 = __wasi_path_unlink_file(sub, "deep.txt");
    int e3 = __wasi_path_create_directory(sub, "d");
    if ((e1 != __WASI_ERRNO_PERM && e1 != __WASI_ERRNO_NOTCAPABLE) ||
        (e2 != __WASI_ERRNO_PERM && e2 != __WASI_ERRNO_NOTCAPABLE) ||
        (e3 != __WASI_ERRNO_PERM && e3 != __WASI_ERRNO_NOTCAPABLE))
      FAIL("subdirectory is read-only too", "%s %s %s", ErrName(e1), ErrName(e2), ErrName(e3));
    OK("subdirectory is read-only too");
    (void)!__wasi_fd_close(sub);
  }
  CHECK(__wasi_path_create_directory(rw, "d") == 0 && __wasi_path_remove_directory(rw, "d") == 0,
        "rw preopen still writable");
  errno = 0;
  CHECK(fopen("/ro/file.txt", "a") == NULL && fopen("/ro/other.txt", "w") == NULL,
        "libc fopen for writing fails");
  return 0;
}
