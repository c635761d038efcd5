// proc_exit (from a nested call, via libc exit, via main's return), output written
// before an exit is not lost, stdout/stderr go to the right host streams, proc_raise
// and the sock_* functions on descriptors that are not sockets. argv[1] picks the case.
//
// CASE: exit_nested
// RUN: {wasm} exit_nested
// EXIT: 42
// OUT: before exit
// ERR: on stderr
//
// CASE: exit_libc_flushes
// RUN: {wasm} exit_libc
// EXIT: 3
// OUT-HAS: buffered, no newline
//
// CASE: main_returns
// RUN: {wasm} return
// EXIT: 7
// OUT: returning 7
//
// CASE: trace_wasi
// RUN: --trace-wasi {wasm} return
// EXIT: 7
// OUT: returning 7
// ERR-HAS: fd_write(1
// ERR-HAS: proc_exit(7
//
// CASE: missing_dir
// RUN: --dir {tmp}/missing::/m {wasm} return
// EXIT: 1
// ERR-HAS: {tmp}/missing
//
// CASE: exit_125
// RUN: {wasm} exit 125
// EXIT: 125
//
// CASE: exit_126_traps
// RUN: {wasm} exit 126
// EXIT: 134
// ERR-MATCH: \bproc_exit\b
// ERR-HAS: 126
//
// CASE: exit_zero
// RUN: {wasm} exit_zero
// OUT: exiting 0
//
// CASE: raise
// RUN: {wasm} raise
// OUT: ok proc_raise ENOTSUP
//
// CASE: sock
// SETUP: file sb/f.txt data
// RUN: --dir {tmp}/sb::/sb {wasm} sock
// OUT: ok sock_accept on a file ENOTSOCK
// OUT: ok sock_recv on a file ENOTSOCK
// OUT: ok sock_send on a file ENOTSOCK
// OUT: ok sock_shutdown on a file ENOTSOCK
// OUT: ok sock_recv on stdin ENOTSOCK
// OUT: ok sock_send on stdout ENOTSOCK
// OUT: ok sock_shutdown on a preopen ENOTSOCK
// OUT: ok sock_accept unknown fd EBADF
// OUT: ok sock_recv unknown fd EBADF
// OUT: ok sock_send unknown fd EBADF
// OUT: ok sock_shutdown unknown fd EBADF
// OUT: ok nothing was sent
//
// CASE: stdio
// STDIN: line one
// STDIN: line two
// RUN: {wasm} stdio
// OUT: ok fd_fdstat_get stdin
// OUT: ok fd_fdstat_get stdout
// OUT: ok fd_seek on stdout ESPIPE
// OUT: ok fd_tell on stdout ESPIPE
// OUT: ok fd_seek on stdin ESPIPE
// OUT: ok fd_write on stdin refused
// OUT: ok fd_read on stdout refused
// OUT: ok read stdin: line one|line two|
// OUT: ok fd_read stdin at EOF gives 0
// OUT: ok stdout is not a tty
// OUT: ok fd_filestat_get stdout
// ERR: stderr line
// OUT: ok fd_close stdin
// OUT: ok fd_read closed stdin EBADF
#include <unistd.h>

#include "wasi_test.h"

static int depth;

__attribute__((noinline)) static int Exit42(void) {
  printf("before exit\n");
  fprintf(stderr, "on stderr\n");
  __wasi_proc_exit(42);
}

__attribute__((noinline)) static void Nested(int n) {
  depth++;
  if (n == 0 && Exit42()) return;
  Nested(n - 1);
  printf("not reached %d\n", depth);
}

static void Sock(void) {
  __wasi_fd_t sb = PreopenFd("/sb"), f, out;
  if (OpenAt(sb, "f.txt", 0, RIGHTS_ALL, 0, &f)) FAIL("open", "failed");
  uint8_t buf[8];
  __wasi_iovec_t iov = {buf, sizeof buf};
  __wasi_ciovec_t ciov = {(const uint8_t*)"sent", 4};
  __wasi_size_t n;
  __wasi_roflags_t ro;
  // wasmtime (p1.rs): any open fd that is not a socket answers ENOTSOCK, an unknown
  // fd EBADF.
  EXPECT_ERRNO(__wasi_sock_accept(f, 0, &out), __WASI_ERRNO_NOTSOCK, "sock_accept on a file ENOTSOCK");
  EXPECT_ERRNO(__wasi_sock_recv(f, &iov, 1, 0, &n, &ro), __WASI_ERRNO_NOTSOCK,
               "sock_recv on a file ENOTSOCK");
  EXPECT_ERRNO(__wasi_sock_send(f, &ciov, 1, 0, &n), __WASI_ERRNO_NOTSOCK,
               "sock_send on a file ENOTSOCK");
  EXPECT_ERRNO(__wasi_sock_shutdown(f, __WASI_SDFLAGS_WR), __WASI_ERRNO_NOTSOCK,
               "sock_shutdown on a file ENOTSOCK");
  EXPECT_ERRNO(__wasi_sock_recv(0, &iov, 1, 0, &n, &ro), __WASI_ERRNO_NOTSOCK,
               "sock_recv on stdin ENOTSOCK");
  EXPECT_ERRNO(__wasi_sock_send(1, &ciov, 1, 0, &n), __WASI_ERRNO_NOTSOCK,
               "sock_send on stdout ENOTSOCK");
  EXPECT_ERRNO(__wasi_sock_shutdown(sb, __WASI_SDFLAGS_RD), __WASI_ERRNO_NOTSOCK,
               "sock_shutdown on a preopen ENOTSOCK");
  EXPECT_ERRNO(__wasi_sock_accept(99, 0, &out), __WASI_ERRNO_BADF, "sock_accept unknown fd EBADF");
  EXPECT_ERRNO(__wasi_sock_recv(99, &iov, 1, 0, &n, &ro), __WASI_ERRNO_BADF,
               "sock_recv unknown fd EBADF");
  EXPECT_ERRNO(__wasi_sock_send(99, &ciov, 1, 0, &n), __WASI_ERRNO_BADF,
               "sock_send unknown fd EBADF");
  EXPECT_ERRNO(__wasi_sock_shutdown(99, __WASI_SDFLAGS_RD), __WASI_ERRNO_BADF,
               "sock_shutdown unknown fd EBADF");
  char content[16];
  size_t got = 0;
  __wasi_filesize_t pos;
  CHECK(__wasi_fd_seek(f, 0, __WASI_WHENCE_SET, &pos) == 0 &&
            ReadAll(f, content, sizeof content, &got) == 0 && strcmp(content, "data") == 0,
        "nothing was sent");
}

static void Stdio(void) {
  __wasi_fdstat_t fs;
  CHECK(__wasi_fd_fdstat_get(0, &fs) == 0 && (fs.fs_rights_base & __WASI_RIGHTS_FD_READ),
        "fd_fdstat_get stdin");
  CHECK(__wasi_fd_fdstat_get(1, &fs) == 0 && (fs.fs_rights_base & __WASI_RIGHTS_FD_WRITE),
        "fd_fdstat_get stdout");
  __wasi_filesize_t pos;
  EXPECT_ERRNO(__wasi_fd_seek(1, 0, __WASI_WHENCE_CUR, &pos), __WASI_ERRNO_SPIPE,
               "fd_seek on stdout ESPIPE");
  EXPECT_ERRNO(__wasi_fd_tell(1, &pos), __WASI_ERRNO_SPIPE, "fd_tell on stdout ESPIPE");
  EXPECT_ERRNO(__wasi_fd_seek(0, 5, __WASI_WHENCE_SET, &pos), __WASI_ERRNO_SPIPE,
               "fd_seek on stdin ESPIPE");
  {
    // wasmtime: EBADF (stdin is not an output stream); a rights check gives ENOTCAPABLE.
    __wasi_ciovec_t ciov = {(const uint8_t*)"x", 1};
    __wasi_size_t n;
    EXPECT_ERRNO2(__wasi_fd_write(0, &ciov, 1, &n), __WASI_ERRNO_BADF, __WASI_ERRNO_NOTCAPABLE,
                  "fd_write on stdin refused");
    uint8_t b[4];
    __wasi_iovec_t iov = {b, sizeof b};
    EXPECT_ERRNO2(__wasi_fd_read(1, &iov, 1, &n), __WASI_ERRNO_BADF, __WASI_ERRNO_NOTCAPABLE,
                  "fd_read on stdout refused");
  }
  char buf[64];
  size_t got = 0;
  if (ReadAll(0, buf, sizeof buf, &got)) FAIL("read stdin", "failed");
  for (char* p = buf; *p; p++)
    if (*p == '\n') *p = '|';
  printf("ok read stdin: %s\n", buf);
  {
    uint8_t b[4];
    __wasi_iovec_t iov = {b, sizeof b};
    __wasi_size_t n = 99;
    CHECK(__wasi_fd_read(0, &iov, 1, &n) == 0 && n == 0, "fd_read stdin at EOF gives 0");
  }
  CHECK(!isatty(1) && !isatty(0), "stdout is not a tty");
  {
    __wasi_filestat_t st;
    CHECK(__wasi_fd_filestat_get(1, &st) == 0 && st.filetype != __WASI_FILETYPE_DIRECTORY &&
              st.filetype != __WASI_FILETYPE_REGULAR_FILE,
          "fd_filestat_get stdout");
  }
  if (WriteAll(2, "stderr line\n")) FAIL("stderr", "failed");
  EXPECT_OK(__wasi_fd_close(0), "fd_close stdin");
  {
    uint8_t b[4];
    __wasi_iovec_t iov = {b, sizeof b};
    __wasi_size_t n;
    EXPECT_ERRNO(__wasi_fd_read(0, &iov, 1, &n), __WASI_ERRNO_BADF, "fd_read closed stdin EBADF");
  }
}

int main(int argc, char** argv) {
  const char* what = argc > 1 ? argv[1] : "";
  if (strcmp(what, "exit_nested") == 0) {
    Nested(5);
  } else if (strcmp(what, "exit") == 0 && argc > 2) {
    // wasmtime: statuses >= 126 are not exit codes but a trap ("exit with invalid exit
    // status outside of [0..126)"), since 126+ mean "not run"/signals to a shell.
    __wasi_proc_exit(atoi(argv[2]));
  } else if (strcmp(what, "exit_libc") == 0) {
    setvbuf(stdout, NULL, _IOFBF, 4096);
    printf("buffered, no newline");
    exit(3);
  } else if (strcmp(what, "return") == 0) {
    printf("returning 7\n");
    return 7;
  } else if (strcmp(what, "exit_zero") == 0) {
    printf("exiting 0\n");
    fflush(stdout);
    __wasi_proc_exit(0);
  } else if (strcmp(what, "raise") == 0) {
    // wasmtime answers ENOTSUP for proc_raise (crates/wasi/src/p1.rs).
    EXPECT_ERRNO(weft_raw_proc_raise(2 /* SIGINT */), __WASI_ERRNO_NOTSUP, "proc_raise ENOTSUP");
  } else if (strcmp(what, "sock") == 0) {
    Sock();
  } else if (strcmp(what, "stdio") == 0) {
    Stdio();
  } else {
    printf("unknown case %s\n", what);
    return 2;
  }
  return 0;
}
