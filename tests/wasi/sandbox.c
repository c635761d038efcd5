// Sandbox escapes: `..` chains, absolute paths, symlinks to /, to .., to a sibling
// directory, to an absolute host path, chains of symlinks, symlink loops (ELOOP), and
// every kind of write through them. Each escape must fail with EPERM (wasmtime) or
// ENOTCAPABLE; the driver checks that the files planted outside the preopen are
// untouched (names, contents, modes, mtimes) and that nothing was created there.
//
// SETUP: file sb/file.txt file
// SETUP: file sb/dir/inner.txt inner
// SETUP: mkdir sb/emptydir
// SETUP: file outside/secret.txt secret
// SETUP: mkdir outside/dir
// SETUP: file sibling/s.txt sibling
// SETUP: mtime 1000000000 outside/secret.txt
// SETUP: symlink sb/ok_link dir/inner.txt
// SETUP: symlink sb/dir/up_ok ../file.txt
// SETUP: symlink sb/to_root /
// SETUP: symlink sb/to_parent ..
// SETUP: symlink sb/to_outside ../outside
// SETUP: symlink sb/to_outside_abs {tmp}/outside
// SETUP: symlink sb/to_secret ../outside/secret.txt
// SETUP: symlink sb/to_sibling ../sibling
// SETUP: symlink sb/dir/up2 ../..
// SETUP: symlink sb/chain1 chain2
// SETUP: symlink sb/chain2 dir/up2/outside
// SETUP: symlink sb/loop1 loop2
// SETUP: symlink sb/loop2 loop1
// SETUP: symlink sb/self self
// RUN: --dir {tmp}/sb::/sb {wasm}
// OUT: ok in-sandbox: . and dir/..
// OUT: ok in-sandbox: symlink to a file inside
// OUT: ok in-sandbox: symlink with .. that stays inside
// OUT: ok read ../outside/secret.txt
// OUT: ok read dir/../../outside/secret.txt
// OUT: ok read ../sb/file.txt
// OUT: ok read dir/../dir/../../outside/secret.txt
// OUT: ok read /etc/passwd
// OUT: ok read /
// OUT: ok read to_secret
// OUT: ok read to_outside/secret.txt
// OUT: ok read to_outside_abs/secret.txt
// OUT: ok read to_root/etc/passwd
// OUT: ok read to_parent/outside/secret.txt
// OUT: ok read dir/up2/outside/secret.txt
// OUT: ok read chain1/secret.txt
// OUT: ok read to_sibling/s.txt
// OUT: ok open directory to_outside
// OUT: ok open symlink without follow refused
// OUT: ok filestat to_secret with follow
// OUT: ok filestat to_secret without follow is the link
// OUT: ok filestat ../outside
// OUT: ok filestat to_root/tmp
// OUT: ok readlink to_root reads the link itself
// OUT: ok loop: loop1 ELOOP
// OUT: ok loop: self ELOOP
// OUT: ok loop: loop1/x ELOOP
// OUT: ok create ../outside/new.txt
// OUT: ok create to_outside/new2.txt
// OUT: ok truncate through to_secret
// OUT: ok mkdir to_outside/newdir
// OUT: ok mkdir ../newdir
// OUT: ok unlink to_outside/secret.txt
// OUT: ok unlink ../outside/secret.txt
// OUT: ok rmdir to_outside/dir
// OUT: ok rename file.txt to ../outside/moved
// OUT: ok rename to_outside/secret.txt in
// OUT: ok link to_outside/secret.txt in
// OUT: ok link following to_secret
// OUT: ok link file.txt out
// OUT: ok symlink made inside cannot be followed out
// OUT: ok set_times through to_secret
// OUT: ok set_times ../outside/secret.txt
// OUT: ok a directory fd is its own root: ../file.txt
// OUT: ok a directory fd is its own root: absolute
// OUT: ok unlink the escaping link itself
// OUT: ok libc fopen /sb/../outside/secret.txt fails
// OUT: ok libc fopen /sb/to_outside/secret.txt fails
// OUT: ok libc fopen of an unmapped absolute path fails
// UNTOUCHED: outside
// UNTOUCHED: sibling
// FILE: outside/secret.txt secret
// FILE: sb/file.txt file
// ABSENT: sb/hard
// ABSENT: sb/hard2
// ABSENT: sb/stolen
// ABSENT: newdir
// ABSENT: sb/to_secret
#include <errno.h>

#include "wasi_test.h"

static __wasi_fd_t sb;

static __wasi_errno_t Open(const char* path, __wasi_oflags_t oflags, __wasi_rights_t rights) {
  __wasi_fd_t fd;
  __wasi_errno_t e = OpenAtFlags(sb, FOLLOW, path, oflags, rights, 0, &fd);
  if (e == 0) (void)!__wasi_fd_close(fd);
  return e;
}

#define ESCAPE_READ(path) EXPECT_ESCAPE(Open((path), 0, RIGHTS_READ_ONLY), "read " path)

int main(void) {
  sb = PreopenFd("/sb");
  __wasi_fd_t fd;
  __wasi_filestat_t st;
  char buf[256];
  size_t got;

  CHECK(Open(".", __WASI_OFLAGS_DIRECTORY, RIGHTS_READ_ONLY) == 0 &&
            Open("dir/..", __WASI_OFLAGS_DIRECTORY, RIGHTS_READ_ONLY) == 0,
        "in-sandbox: . and dir/..");
  CHECK(OpenAtFlags(sb, FOLLOW, "ok_link", 0, RIGHTS_READ_ONLY, 0, &fd) == 0 &&
            ReadAll(fd, buf, sizeof buf, &got) == 0 && strcmp(buf, "inner") == 0 &&
            __wasi_fd_close(fd) == 0,
        "in-sandbox: symlink to a file inside");
  CHECK(OpenAtFlags(sb, FOLLOW, "dir/up_ok", 0, RIGHTS_READ_ONLY, 0, &fd) == 0 &&
            ReadAll(fd, buf, sizeof buf, &got) == 0 && strcmp(buf, "file") == 0 &&
            __wasi_fd_close(fd) == 0,
        "in-sandbox: symlink with .. that stays inside");

  // --- reading out
  ESCAPE_READ("../outside/secret.txt");
  ESCAPE_READ("dir/../../outside/secret.txt");
  ESCAPE_READ("../sb/file.txt");
  ESCAPE_READ("dir/../dir/../../outside/secret.txt");
  ESCAPE_READ("/etc/passwd");
  ESCAPE_READ("/");
  ESCAPE_READ("to_secret");
  ESCAPE_READ("to_outside/secret.txt");
  ESCAPE_READ("to_outside_abs/secret.txt");
  ESCAPE_READ("to_root/etc/passwd");
  ESCAPE_READ("to_parent/outside/secret.txt");
  ESCAPE_READ("dir/up2/outside/secret.txt");
  ESCAPE_READ("chain1/secret.txt");
  ESCAPE_READ("to_sibling/s.txt");
  EXPECT_ESCAPE(Open("to_outside", __WASI_OFLAGS_DIRECTORY, RIGHTS_READ_ONLY),
                "open directory to_outside");
  {
    // Not following the final symlink: O_NOFOLLOW semantics (ELOOP) or an escape error;
    // never the file behind it.
    int e = OpenAt(sb, "to_secret", 0, RIGHTS_READ_ONLY, 0, &fd);
    if (e != __WASI_ERRNO_LOOP && e != __WASI_ERRNO_PERM && e != __WASI_ERRNO_NOTCAPABLE)
      FAIL("open symlink without follow refused", "got %s", ErrName(e));
    OK("open symlink without follow refused");
  }
  EXPECT_ESCAPE(__wasi_path_filestat_get(sb, FOLLOW, "to_secret", &st),
                "filestat to_secret with follow");
  CHECK(__wasi_path_filestat_get(sb, 0, "to_secret", &st) == 0 &&
            st.filetype == __WASI_FILETYPE_SYMBOLIC_LINK,
        "filestat to_secret without follow is the link");
  EXPECT_ESCAPE(__wasi_path_filestat_get(sb, 0, "../outside", &st), "filestat ../outside");
  EXPECT_ESCAPE(__wasi_path_filestat_get(sb, FOLLOW, "to_root/tmp", &st), "filestat to_root/tmp");
  {
    __wasi_size_t n;
    CHECK(__wasi_path_readlink(sb, "to_root", (uint8_t*)buf, sizeof buf, &n) == 0 && n == 1 &&
              buf[0] == '/',
          "readlink to_root reads the link itself");
  }

  // --- loops (wasmtime: ELOOP)
  EXPECT_ERRNO(Open("loop1", 0, RIGHTS_READ_ONLY), __WASI_ERRNO_LOOP, "loop: loop1 ELOOP");
  EXPECT_ERRNO(Open("self", 0, RIGHTS_READ_ONLY), __WASI_ERRNO_LOOP, "loop: self ELOOP");
  EXPECT_ERRNO(Open("loop1/x", 0, RIGHTS_READ_ONLY), __WASI_ERRNO_LOOP, "loop: loop1/x ELOOP");

  // --- writing out
  EXPECT_ESCAPE(Open("../outside/new.txt", __WASI_OFLAGS_CREAT, RIGHTS_ALL),
                "create ../outside/new.txt");
  EXPECT_ESCAPE(Open("to_outside/new2.txt", __WASI_OFLAGS_CREAT, RIGHTS_ALL),
                "create to_outside/new2.txt");
  EXPECT_ESCAPE(Open("to_secret", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, RIGHTS_ALL),
                "truncate through to_secret");
  EXPECT_ESCAPE(__wasi_path_create_directory(sb, "to_outside/newdir"), "mkdir to_outside/newdir");
  EXPECT_ESCAPE(__wasi_path_create_directory(sb, "../newdir"), "mkdir ../newdir");
  EXPECT_ESCAPE(__wasi_path_unlink_file(sb, "to_outside/secret.txt"), "unlink to_outside/secret.txt");
  EXPECT_ESCAPE(__wasi_path_unlink_file(sb, "../outside/secret.txt"), "unlink ../outside/secret.txt");
  EXPECT_ESCAPE(__wasi_path_remove_directory(sb, "to_outside/dir"), "rmdir to_outside/dir");
  EXPECT_ESCAPE(__wasi_path_rename(sb, "file.txt", sb, "../outside/moved"),
                "rename file.txt to ../outside/moved");
  EXPECT_ESCAPE(__wasi_path_rename(sb, "to_outside/secret.txt", sb, "stolen"),
                "rename to_outside/secret.txt in");
  EXPECT_ESCAPE(__wasi_path_link(sb, 0, "to_outside/secret.txt", sb, "hard"),
                "link to_outside/secret.txt in");
  {
    // wasmtime refuses SYMLINK_FOLLOW in path_link outright (EINVAL); following the
    // link out must be an escape error otherwise.
    int e = __wasi_path_link(sb, FOLLOW, "to_secret", sb, "hard2");
    if (e != __WASI_ERRNO_INVAL && e != __WASI_ERRNO_PERM && e != __WASI_ERRNO_NOTCAPABLE)
      FAIL("link following to_secret", "got %s", ErrName(e));
    OK("link following to_secret");
  }
  EXPECT_ESCAPE(__wasi_path_link(sb, 0, "file.txt", sb, "../outside/hard3"), "link file.txt out");
  {
    // Creating a link whose target points out may be refused (EPERM) or allowed; if it
    // exists, following it must still fail.
    int e = __wasi_path_symlink("../outside/secret.txt", sb, "made_link");
    if (e != 0 && e != __WASI_ERRNO_PERM && e != __WASI_ERRNO_NOTCAPABLE)
      FAIL("symlink made inside cannot be followed out", "path_symlink: %s", ErrName(e));
    if (e == 0) {
      int e2 = Open("made_link", 0, RIGHTS_READ_ONLY);
      if (e2 != __WASI_ERRNO_PERM && e2 != __WASI_ERRNO_NOTCAPABLE)
        FAIL("symlink made inside cannot be followed out", "open: %s", ErrName(e2));
      if (__wasi_path_unlink_file(sb, "made_link")) FAIL("unlink made_link", "failed");
    }
    OK("symlink made inside cannot be followed out");
  }
  EXPECT_ESCAPE(__wasi_path_filestat_set_times(sb, FOLLOW, "to_secret", 5, 5,
                                               __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM),
                "set_times through to_secret");
  EXPECT_ESCAPE(__wasi_path_filestat_set_times(sb, 0, "../outside/secret.txt", 5, 5,
                                               __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM),
                "set_times ../outside/secret.txt");

  // --- a directory opened below the preopen is a root of its own (as in wasmtime)
  {
    __wasi_fd_t d;
    if (OpenAt(sb, "dir", __WASI_OFLAGS_DIRECTORY, RIGHTS_READ_ONLY, 0, &d)) FAIL("open dir", "failed");
    EXPECT_ESCAPE(OpenAtFlags(d, FOLLOW, "../file.txt", 0, RIGHTS_READ_ONLY, 0, &fd),
                  "a directory fd is its own root: ../file.txt");
    EXPECT_ESCAPE(OpenAtFlags(d, FOLLOW, "/etc/passwd", 0, RIGHTS_READ_ONLY, 0, &fd),
                  "a directory fd is its own root: absolute");
    if (__wasi_fd_close(d)) FAIL("close", "failed");
  }

  // Final-component operations act on the link, not on what it points at.
  CHECK(__wasi_path_unlink_file(sb, "to_secret") == 0, "unlink the escaping link itself");

  // --- libc, the way real programs try
  errno = 0;
  FILE* f = fopen("/sb/../outside/secret.txt", "r");
  CHECK(!f, "libc fopen /sb/../outside/secret.txt fails");
  f = fopen("/sb/to_outside/secret.txt", "r+");
  CHECK(!f, "libc fopen /sb/to_outside/secret.txt fails");
  f = fopen("/etc/passwd", "r");
  CHECK(!f, "libc fopen of an unmapped absolute path fails");
  return 0;
}
