// Large transfers: 2 MiB written to a file through libc in odd-sized chunks and read
// back byte-exact with raw fd_read (short reads allowed), and 1 MiB through fd_pwrite/
// fd_pread at a high offset; the host sees the exact size.
//
// SETUP: mkdir sb
// RUN: --dir {tmp}/sb::/sb {wasm}
// OUT: ok wrote 2 MiB
// OUT: ok read back 2 MiB exactly
// TIMEOUT: 240
// OUT: ok pwrite/pread 1 MiB at offset 8 GiB
// OUT: ok size after sparse write
#include "wasi_test.h"

static uint8_t Pattern(uint64_t i) { return (uint8_t)((i * 2654435761u) >> 13); }

int main(void) {
  const size_t total = 2u << 20;
  static uint8_t chunk[65537];
  FILE* f = fopen("/sb/big.bin", "w");
  if (!f) FAIL("fopen", "failed");
  size_t done = 0;
  while (done < total) {
    size_t n = sizeof chunk < total - done ? sizeof chunk : total - done;
    for (size_t i = 0; i < n; i++) chunk[i] = Pattern(done + i);
    if (fwrite(chunk, 1, n, f) != n) FAIL("fwrite", "short");
    done += n;
  }
  CHECK(fclose(f) == 0, "wrote 2 MiB");

  __wasi_fd_t sb = PreopenFd("/sb"), fd;
  if (OpenAt(sb, "big.bin", 0, RIGHTS_ALL, 0, &fd)) FAIL("open", "failed");
  static uint8_t buf[100003];
  size_t got = 0;
  for (;;) {
    __wasi_iovec_t iov = {buf, sizeof buf};
    __wasi_size_t n = 0;
    if (__wasi_fd_read(fd, &iov, 1, &n)) FAIL("fd_read", "failed");
    if (n == 0) break;
    for (size_t i = 0; i < n; i++)
      if (buf[i] != Pattern(got + i)) FAIL("read back", "byte %zu differs", got + i);
    got += n;
  }
  CHECK(got == total, "read back 2 MiB exactly");

  const __wasi_filesize_t off = 8ull << 30;
  static uint8_t big[1 << 20];
  for (size_t i = 0; i < sizeof big; i++) big[i] = Pattern(i + 7);
  size_t w = 0;
  while (w < sizeof big) {
    __wasi_ciovec_t iov = {big + w, sizeof big - w};
    __wasi_size_t n = 0;
    if (__wasi_fd_pwrite(fd, &iov, 1, off + w, &n) || n == 0) FAIL("fd_pwrite", "failed");
    w += n;
  }
  memset(big, 0, sizeof big);
  size_t r = 0;
  while (r < sizeof big) {
    __wasi_iovec_t iov = {big + r, sizeof big - r};
    __wasi_size_t n = 0;
    if (__wasi_fd_pread(fd, &iov, 1, off + r, &n) || n == 0) FAIL("fd_pread", "failed");
    r += n;
  }
  int same = 1;
  for (size_t i = 0; i < sizeof big; i++) same = same && big[i] == Pattern(i + 7);
  CHECK(same, "pwrite/pread 1 MiB at offset 8 GiB");
  __wasi_filestat_t st;
  CHECK(__wasi_fd_filestat_get(fd, &st) == 0 && st.size == off + sizeof big, "size after sparse write");
  return 0;
}
