// path_* functions inside preopens: create/remove directories, unlink, symlink and
// readlink, filestat with and without following symlinks, set_times, hard links and
// renames inside one preopen and across two preopens, and fd_prestat_*.
//
// SETUP: mkdir sb/dir
// SETUP: file sb/file.txt content
// SETUP: file sb/dir/inner.txt inner
// SETUP: mkdir other
// SETUP: file other/o.txt other
// RUN: --dir {tmp}/sb::/sb --dir {tmp}/other::/other {wasm}
// OUT: ok fd_prestat_get /sb
// OUT: ok fd_prestat_dir_name
// OUT: ok fd_prestat_dir_name short buffer ENAMETOOLONG
// OUT: ok fd_prestat_get on stdout EBADF
// OUT: ok fd_prestat_get unknown fd EBADF
// OUT: ok preopen fdstat is a directory
// OUT: ok path_create_directory
// OUT: ok path_create_directory existing EEXIST
// OUT: ok path_create_directory missing parent ENOENT
// OUT: ok path_create_directory under a file ENOTDIR
// OUT: ok path_filestat_get directory
// OUT: ok path_remove_directory non-empty ENOTEMPTY
// OUT: ok path_remove_directory on a file ENOTDIR
// OUT: ok path_remove_directory missing ENOENT
// OUT: ok path_remove_directory
// OUT: ok path_unlink_file on a directory EISDIR
// OUT: ok path_unlink_file missing ENOENT
// OUT: ok path_symlink
// OUT: ok path_symlink existing EEXIST
// OUT: ok path_readlink
// OUT: ok path_readlink short buffer truncates
// OUT: ok path_readlink on a file EINVAL
// OUT: ok path_filestat_get symlink without follow
// OUT: ok path_filestat_get symlink with follow
// OUT: ok path_open through an in-sandbox symlink
// OUT: ok path_filestat_get dangling symlink ENOENT with follow
// OUT: ok path_filestat_get dangling symlink without follow
// OUT: ok path_unlink_file removes the symlink only
// OUT: ok path_filestat_set_times
// OUT: ok path_filestat_set_times ATIM_NOW with ATIM EINVAL
// OUT: ok path_filestat_set_times missing ENOENT
// OUT: ok path_link
// OUT: ok path_link nlink 2
// OUT: ok path_link existing target EEXIST
// OUT: ok path_link of a directory refused
// OUT: ok path_rename file
// OUT: ok path_rename over an existing file
// OUT: ok path_rename directory
// OUT: ok path_rename onto a non-empty directory ENOTEMPTY
// OUT: ok path_rename directory onto a file ENOTDIR
// OUT: ok path_rename missing ENOENT
// OUT: ok path_rename across preopens
// OUT: ok path_link across preopens
// OUT: ok path_unlink_file
// OUT: ok paths with . and inner .. stay usable
// OUT: ok trailing slash on a file ENOTDIR
// OUT: ok path_open empty path ENOENT
// OUT: ok path_* with a file as dirfd ENOTDIR or EBADF
// OUT: ok libc mkdir/rename/unlink/rmdir/stat
// FILE: sb/file.txt content
// FILE: sb/linked.txt content
// FILE: other/moved.txt inner
// FILE: other/o.txt other
// FILE: other/o_link.txt other
// FILE: sb/o_link2.txt other
// ABSENT: sb/newdir
// ABSENT: sb/dir/inner.txt
// ABSENT: sb/to_file
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi_test.h"

static __wasi_filestat_t PathStat(__wasi_fd_t dir, int follow, const char* path) {
  __wasi_filestat_t st;
  int e = __wasi_path_filestat_get(dir, follow ? __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW : 0, path, &st);
  if (e) FAIL("path_filestat_get", "%s: %s", path, ErrName(e));
  return st;
}

static int Exists(__wasi_fd_t dir, const char* path) {
  __wasi_filestat_t st;
  return __wasi_path_filestat_get(dir, 0, path, &st) == 0;
}

int main(void) {
  __wasi_fd_t sb = PreopenFd("/sb"), other = PreopenFd("/other");
  __wasi_fd_t fd;
  char buf[256];
  __wasi_size_t n;

  // --- preopens
  {
    __wasi_prestat_t ps;
    CHECK(__wasi_fd_prestat_get(sb, &ps) == 0 && ps.tag == __WASI_PREOPENTYPE_DIR &&
              ps.u.dir.pr_name_len == 3,
          "fd_prestat_get /sb");
    memset(buf, 'x', sizeof buf);
    CHECK(__wasi_fd_prestat_dir_name(sb, (uint8_t*)buf, 3) == 0 && memcmp(buf, "/sb", 3) == 0 &&
              buf[3] == 'x',
          "fd_prestat_dir_name");
    // wasmtime: a buffer shorter than the name is ENAMETOOLONG.
    EXPECT_ERRNO(__wasi_fd_prestat_dir_name(sb, (uint8_t*)buf, 2), __WASI_ERRNO_NAMETOOLONG,
                 "fd_prestat_dir_name short buffer ENAMETOOLONG");
    EXPECT_ERRNO(__wasi_fd_prestat_get(1, &ps), __WASI_ERRNO_BADF, "fd_prestat_get on stdout EBADF");
    EXPECT_ERRNO(__wasi_fd_prestat_get(999, &ps), __WASI_ERRNO_BADF,
                 "fd_prestat_get unknown fd EBADF");
    __wasi_fdstat_t fs;
    CHECK(__wasi_fd_fdstat_get(sb, &fs) == 0 && fs.fs_filetype == __WASI_FILETYPE_DIRECTORY &&
              (fs.fs_rights_base & __WASI_RIGHTS_PATH_OPEN),
          "preopen fdstat is a directory");
  }

  // --- directories
  EXPECT_OK(__wasi_path_create_directory(sb, "newdir"), "path_create_directory");
  EXPECT_ERRNO(__wasi_path_create_directory(sb, "newdir"), __WASI_ERRNO_EXIST,
               "path_create_directory existing EEXIST");
  EXPECT_ERRNO(__wasi_path_create_directory(sb, "nope/x"), __WASI_ERRNO_NOENT,
               "path_create_directory missing parent ENOENT");
  EXPECT_ERRNO(__wasi_path_create_directory(sb, "file.txt/x"), __WASI_ERRNO_NOTDIR,
               "path_create_directory under a file ENOTDIR");
  CHECK(PathStat(sb, 0, "newdir").filetype == __WASI_FILETYPE_DIRECTORY,
        "path_filestat_get directory");
  if (OpenAt(sb, "newdir/f", __WASI_OFLAGS_CREAT, RIGHTS_ALL, 0, &fd) || __wasi_fd_close(fd))
    FAIL("create newdir/f", "failed");
  EXPECT_ERRNO(__wasi_path_remove_directory(sb, "newdir"), __WASI_ERRNO_NOTEMPTY,
               "path_remove_directory non-empty ENOTEMPTY");
  EXPECT_ERRNO(__wasi_path_remove_directory(sb, "file.txt"), __WASI_ERRNO_NOTDIR,
               "path_remove_directory on a file ENOTDIR");
  EXPECT_ERRNO(__wasi_path_remove_directory(sb, "nope"), __WASI_ERRNO_NOENT,
               "path_remove_directory missing ENOENT");
  if (__wasi_path_unlink_file(sb, "newdir/f")) FAIL("unlink newdir/f", "failed");
  CHECK(__wasi_path_remove_directory(sb, "newdir") == 0 && !Exists(sb, "newdir"),
        "path_remove_directory");
  EXPECT_ERRNO(__wasi_path_unlink_file(sb, "dir"), __WASI_ERRNO_ISDIR,
               "path_unlink_file on a directory EISDIR");
  EXPECT_ERRNO(__wasi_path_unlink_file(sb, "nope"), __WASI_ERRNO_NOENT,
               "path_unlink_file missing ENOENT");

  // --- symlinks
  EXPECT_OK(__wasi_path_symlink("file.txt", sb, "to_file"), "path_symlink");
  EXPECT_ERRNO(__wasi_path_symlink("x", sb, "to_file"), __WASI_ERRNO_EXIST,
               "path_symlink existing EEXIST");
  CHECK(__wasi_path_readlink(sb, "to_file", (uint8_t*)buf, sizeof buf, &n) == 0 && n == 8 &&
            memcmp(buf, "file.txt", 8) == 0,
        "path_readlink");
  // wasmtime truncates the target to the buffer and returns the bytes written.
  CHECK(__wasi_path_readlink(sb, "to_file", (uint8_t*)buf, 4, &n) == 0 && n == 4 &&
            memcmp(buf, "file", 4) == 0,
        "path_readlink short buffer truncates");
  EXPECT_ERRNO(__wasi_path_readlink(sb, "file.txt", (uint8_t*)buf, sizeof buf, &n),
               __WASI_ERRNO_INVAL, "path_readlink on a file EINVAL");
  {
    __wasi_filestat_t l = PathStat(sb, 0, "to_file"), f = PathStat(sb, 1, "to_file");
    CHECK(l.filetype == __WASI_FILETYPE_SYMBOLIC_LINK && l.size == 8,
          "path_filestat_get symlink without follow");
    CHECK(f.filetype == __WASI_FILETYPE_REGULAR_FILE && f.size == 7,
          "path_filestat_get symlink with follow");
  }
  {
    if (OpenAtFlags(sb, FOLLOW, "to_file", 0, RIGHTS_READ_ONLY, 0, &fd))
      FAIL("path_open through an in-sandbox symlink", "open failed");
    size_t got = 0;
    CHECK(ReadAll(fd, buf, sizeof buf, &got) == 0 && strcmp(buf, "content") == 0 &&
              __wasi_fd_close(fd) == 0,
          "path_open through an in-sandbox symlink");
  }
  if (__wasi_path_symlink("does/not/exist", sb, "dangling")) FAIL("symlink dangling", "failed");
  {
    __wasi_filestat_t st;
    EXPECT_ERRNO(__wasi_path_filestat_get(sb, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "dangling", &st),
                 __WASI_ERRNO_NOENT, "path_filestat_get dangling symlink ENOENT with follow");
    CHECK(PathStat(sb, 0, "dangling").filetype == __WASI_FILETYPE_SYMBOLIC_LINK,
          "path_filestat_get dangling symlink without follow");
  }
  CHECK(__wasi_path_unlink_file(sb, "to_file") == 0 && !Exists(sb, "to_file") &&
            Exists(sb, "file.txt") && __wasi_path_unlink_file(sb, "dangling") == 0,
        "path_unlink_file removes the symlink only");

  // --- times
  {
    const __wasi_timestamp_t atim = 1100000000000000001ull, mtim = 1300000000000000002ull;
    CHECK(__wasi_path_filestat_set_times(sb, 0, "dir/inner.txt", atim, mtim,
                                         __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM) == 0 &&
              PathStat(sb, 0, "dir/inner.txt").atim == atim &&
              PathStat(sb, 0, "dir/inner.txt").mtim == mtim,
          "path_filestat_set_times");
    EXPECT_ERRNO(__wasi_path_filestat_set_times(sb, 0, "dir/inner.txt", atim, mtim,
                                                __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW),
                 __WASI_ERRNO_INVAL, "path_filestat_set_times ATIM_NOW with ATIM EINVAL");
    EXPECT_ERRNO(__wasi_path_filestat_set_times(sb, 0, "nope", atim, mtim, __WASI_FSTFLAGS_ATIM),
                 __WASI_ERRNO_NOENT, "path_filestat_set_times missing ENOENT");
  }

  // --- hard links and renames
  EXPECT_OK(__wasi_path_link(sb, 0, "file.txt", sb, "linked.txt"), "path_link");
  CHECK(PathStat(sb, 0, "file.txt").nlink == 2 &&
            PathStat(sb, 0, "file.txt").ino == PathStat(sb, 0, "linked.txt").ino,
        "path_link nlink 2");
  EXPECT_ERRNO(__wasi_path_link(sb, 0, "file.txt", sb, "linked.txt"), __WASI_ERRNO_EXIST,
               "path_link existing target EEXIST");
  {
    // Linux refuses hard links to directories with EPERM; wasmtime passes that on.
    int e = __wasi_path_link(sb, 0, "dir", sb, "dir_link");
    if (e != __WASI_ERRNO_PERM && e != __WASI_ERRNO_NOTSUP && e != __WASI_ERRNO_ACCES)
      FAIL("path_link of a directory refused", "got %s", ErrName(e));
    OK("path_link of a directory refused");
  }
  if (OpenAt(sb, "r1.txt", __WASI_OFLAGS_CREAT, RIGHTS_ALL, 0, &fd) || WriteAll(fd, "r1") ||
      __wasi_fd_close(fd))
    FAIL("create r1.txt", "failed");
  CHECK(__wasi_path_rename(sb, "r1.txt", sb, "r2.txt") == 0 && !Exists(sb, "r1.txt") &&
            PathStat(sb, 0, "r2.txt").size == 2,
        "path_rename file");
  if (OpenAt(sb, "r3.txt", __WASI_OFLAGS_CREAT, RIGHTS_ALL, 0, &fd) || WriteAll(fd, "three") ||
      __wasi_fd_close(fd))
    FAIL("create r3.txt", "failed");
  CHECK(__wasi_path_rename(sb, "r3.txt", sb, "r2.txt") == 0 && PathStat(sb, 0, "r2.txt").size == 5,
        "path_rename over an existing file");
  CHECK(__wasi_path_create_directory(sb, "d1") == 0 &&
            __wasi_path_rename(sb, "d1", sb, "d2") == 0 && !Exists(sb, "d1") &&
            PathStat(sb, 0, "d2").filetype == __WASI_FILETYPE_DIRECTORY,
        "path_rename directory");
  EXPECT_ERRNO(__wasi_path_rename(sb, "d2", sb, "dir"), __WASI_ERRNO_NOTEMPTY,
               "path_rename onto a non-empty directory ENOTEMPTY");
  EXPECT_ERRNO(__wasi_path_rename(sb, "d2", sb, "r2.txt"), __WASI_ERRNO_NOTDIR,
               "path_rename directory onto a file ENOTDIR");
  EXPECT_ERRNO(__wasi_path_rename(sb, "nope", sb, "x"), __WASI_ERRNO_NOENT,
               "path_rename missing ENOENT");
  if (__wasi_path_remove_directory(sb, "d2") || __wasi_path_unlink_file(sb, "r2.txt"))
    FAIL("cleanup", "failed");
  CHECK(__wasi_path_rename(sb, "dir/inner.txt", other, "moved.txt") == 0 &&
            !Exists(sb, "dir/inner.txt") && PathStat(other, 0, "moved.txt").size == 5,
        "path_rename across preopens");
  CHECK(__wasi_path_link(other, 0, "o.txt", other, "o_link.txt") == 0 &&
            __wasi_path_link(other, 0, "o.txt", sb, "o_link2.txt") == 0 &&
            PathStat(other, 0, "o.txt").nlink == 3,
        "path_link across preopens");

  if (OpenAt(sb, "gone.txt", __WASI_OFLAGS_CREAT, RIGHTS_ALL, 0, &fd) || __wasi_fd_close(fd))
    FAIL("create gone.txt", "failed");
  CHECK(__wasi_path_unlink_file(sb, "gone.txt") == 0 && !Exists(sb, "gone.txt"),
        "path_unlink_file");

  CHECK(PathStat(sb, 0, "./dir/../file.txt").size == 7 && PathStat(sb, 0, "dir/.").filetype ==
            __WASI_FILETYPE_DIRECTORY && PathStat(sb, 0, ".").filetype == __WASI_FILETYPE_DIRECTORY,
        "paths with . and inner .. stay usable");
  {
    __wasi_filestat_t st;
    EXPECT_ERRNO(__wasi_path_filestat_get(sb, 0, "file.txt/", &st), __WASI_ERRNO_NOTDIR,
                 "trailing slash on a file ENOTDIR");
    EXPECT_ERRNO(OpenAt(sb, "", 0, RIGHTS_READ_ONLY, 0, &fd), __WASI_ERRNO_NOENT,
                 "path_open empty path ENOENT");
    // wasmtime: a file where a directory fd is required is EBADF for path_* (and
    // ENOTDIR for path_open); POSIX *at() answers ENOTDIR.
    __wasi_fd_t f;
    if (OpenAt(sb, "file.txt", 0, RIGHTS_READ_ONLY, 0, &f)) FAIL("open file.txt", "failed");
    int e1 = __wasi_path_filestat_get(f, 0, "x", &st);
    int e2 = __wasi_path_create_directory(f, "x");
    int e3 = OpenAt(f, "x", 0, RIGHTS_READ_ONLY, 0, &fd);
    if ((e1 != __WASI_ERRNO_NOTDIR && e1 != __WASI_ERRNO_BADF) ||
        (e2 != __WASI_ERRNO_NOTDIR && e2 != __WASI_ERRNO_BADF) ||
        (e3 != __WASI_ERRNO_NOTDIR && e3 != __WASI_ERRNO_BADF))
      FAIL("path_* with a file as dirfd", "%s %s %s", ErrName(e1), ErrName(e2), ErrName(e3));
    OK("path_* with a file as dirfd ENOTDIR or EBADF");
    if (__wasi_fd_close(f)) FAIL("close", "failed");
  }

  // --- libc
  {
    struct stat st;
    errno = 0;
    int ok = mkdir("/sb/lc", 0755) == 0 && mkdir("/sb/lc", 0755) == -1 && errno == EEXIST;
    FILE* f = fopen("/sb/lc/a", "w");
    ok = ok && f && fputs("12345", f) >= 0 && fclose(f) == 0;
    ok = ok && rename("/sb/lc/a", "/sb/lc/b") == 0 && stat("/sb/lc/b", &st) == 0 &&
         st.st_size == 5 && S_ISREG(st.st_mode);
    errno = 0;
    ok = ok && rmdir("/sb/lc") == -1 && errno == ENOTEMPTY;
    ok = ok && unlink("/sb/lc/b") == 0 && rmdir("/sb/lc") == 0;
    errno = 0;
    ok = ok && stat("/sb/lc", &st) == -1 && errno == ENOENT;
    CHECK(ok, "libc mkdir/rename/unlink/rmdir/stat");
  }
  return 0;
}
