// Every function that takes a descriptor answers EBADF for an fd that was never open
// and for one that was closed (wasmtime's answer for both), and does nothing else.
//
// SETUP: file sb/f.txt data
// RUN: --dir {tmp}/sb::/sb {wasm}
// OUT: ok never opened: every fd function EBADF
// OUT: ok closed: every fd function EBADF
// OUT: ok closed preopen: every path function EBADF
// OUT: ok fd numbers are reused
// FILE: sb/f.txt data
#include "wasi_test.h"

static int failures;

static void Expect(int e, const char* fn, __wasi_fd_t fd) {
  if (e != __WASI_ERRNO_BADF) {
    printf("FAIL %s(fd %u): got %s, want BADF\n", fn, fd, ErrName(e));
    failures++;
  }
}

static void Sweep(__wasi_fd_t fd) {
  uint8_t buf[64];
  __wasi_iovec_t iov = {buf, sizeof buf};
  __wasi_ciovec_t ciov = {(const uint8_t*)"x", 1};
  __wasi_size_t n;
  __wasi_filesize_t pos;
  __wasi_fdstat_t fs;
  __wasi_filestat_t st;
  __wasi_prestat_t ps;
  __wasi_fd_t out;
  __wasi_roflags_t ro;
  Expect(__wasi_fd_advise(fd, 0, 1, __WASI_ADVICE_NORMAL), "fd_advise", fd);
  Expect(__wasi_fd_allocate(fd, 0, 1), "fd_allocate", fd);
  Expect(__wasi_fd_datasync(fd), "fd_datasync", fd);
  Expect(__wasi_fd_fdstat_get(fd, &fs), "fd_fdstat_get", fd);
  Expect(__wasi_fd_fdstat_set_flags(fd, 0), "fd_fdstat_set_flags", fd);
  Expect(__wasi_fd_fdstat_set_rights(fd, 0, 0), "fd_fdstat_set_rights", fd);
  Expect(__wasi_fd_filestat_get(fd, &st), "fd_filestat_get", fd);
  Expect(__wasi_fd_filestat_set_size(fd, 0), "fd_filestat_set_size", fd);
  Expect(__wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM_NOW), "fd_filestat_set_times", fd);
  Expect(__wasi_fd_pread(fd, &iov, 1, 0, &n), "fd_pread", fd);
  Expect(__wasi_fd_prestat_get(fd, &ps), "fd_prestat_get", fd);
  Expect(__wasi_fd_prestat_dir_name(fd, buf, sizeof buf), "fd_prestat_dir_name", fd);
  Expect(__wasi_fd_pwrite(fd, &ciov, 1, 0, &n), "fd_pwrite", fd);
  Expect(__wasi_fd_read(fd, &iov, 1, &n), "fd_read", fd);
  Expect(__wasi_fd_readdir(fd, buf, sizeof buf, 0, &n), "fd_readdir", fd);
  Expect(__wasi_fd_renumber(fd, 1), "fd_renumber (from)", fd);
  Expect(__wasi_fd_renumber(2, fd), "fd_renumber (to)", fd);
  Expect(__wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos), "fd_seek", fd);
  Expect(__wasi_fd_sync(fd), "fd_sync", fd);
  Expect(__wasi_fd_tell(fd, &pos), "fd_tell", fd);
  Expect(__wasi_fd_write(fd, &ciov, 1, &n), "fd_write", fd);
  Expect(__wasi_path_create_directory(fd, "d"), "path_create_directory", fd);
  Expect(__wasi_path_filestat_get(fd, 0, "f.txt", &st), "path_filestat_get", fd);
  Expect(__wasi_path_filestat_set_times(fd, 0, "f.txt", 0, 0, __WASI_FSTFLAGS_MTIM_NOW),
         "path_filestat_set_times", fd);
  Expect(__wasi_path_link(fd, 0, "f.txt", fd, "g.txt"), "path_link", fd);
  Expect(__wasi_path_open(fd, 0, "f.txt", 0, RIGHTS_READ_ONLY, RIGHTS_READ_ONLY, 0, &out),
         "path_open", fd);
  Expect(__wasi_path_readlink(fd, "f.txt", buf, sizeof buf, &n), "path_readlink", fd);
  Expect(__wasi_path_remove_directory(fd, "d"), "path_remove_directory", fd);
  Expect(__wasi_path_rename(fd, "f.txt", fd, "g.txt"), "path_rename", fd);
  Expect(__wasi_path_symlink("f.txt", fd, "l"), "path_symlink", fd);
  Expect(__wasi_path_unlink_file(fd, "f.txt"), "path_unlink_file", fd);
  Expect(__wasi_sock_accept(fd, 0, &out), "sock_accept", fd);
  Expect(__wasi_sock_recv(fd, &iov, 1, 0, &n, &ro), "sock_recv", fd);
  Expect(__wasi_sock_send(fd, &ciov, 1, 0, &n), "sock_send", fd);
  Expect(__wasi_sock_shutdown(fd, __WASI_SDFLAGS_WR), "sock_shutdown", fd);
  Expect(__wasi_fd_close(fd), "fd_close", fd);
}

int main(void) {
  __wasi_fd_t sb = PreopenFd("/sb");
  Sweep(1000);
  Sweep(0x7fffffff);
  if (failures) FAIL("never opened", "%d calls did not answer EBADF", failures);
  OK("never opened: every fd function EBADF");

  __wasi_fd_t f;
  if (OpenAt(sb, "f.txt", 0, RIGHTS_ALL, 0, &f) || __wasi_fd_close(f)) FAIL("open", "failed");
  Sweep(f);
  if (failures) FAIL("closed", "%d calls did not answer EBADF", failures);
  OK("closed: every fd function EBADF");

  // A preopen can be closed too; afterwards its number is as dead as any other.
  __wasi_fd_t keep;
  if (OpenAt(sb, ".", __WASI_OFLAGS_DIRECTORY, RIGHTS_READ_ONLY, 0, &keep))
    FAIL("open .", "failed");
  if (__wasi_fd_close(sb)) FAIL("close preopen", "failed");
  Sweep(sb);
  if (failures) FAIL("closed preopen", "%d calls did not answer EBADF", failures);
  OK("closed preopen: every path function EBADF");

  // The only free number below the highest open one is the closed preopen's: a new
  // descriptor gets it (wasmtime reuses freed numbers; weft takes the lowest free).
  __wasi_fd_t a;
  CHECK(OpenAt(keep, "f.txt", 0, RIGHTS_READ_ONLY, 0, &a) == 0 && a == sb,
        "fd numbers are reused");
  return 0;
}
