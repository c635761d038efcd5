/* 64 KiB read(2)s of a 1 MiB file, rewinding at its end: fd_read + copy-out.
 * Size: number of reads. */
#include <fcntl.h>
#include <unistd.h>

#include "common.h"

enum { kFile = 1 << 20, kRead = 64 << 10 };
static uint8_t buf[kRead];

int main(int argc, char** argv) {
  int64_t n = BenchSize(argc, argv, 160000);
  uint32_t seed = 11;
  int fd = open("read64k.dat", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  BENCH_CHECK(fd >= 0, "open for write");
  for (uint32_t off = 0; off < kFile; off += kRead) {
    for (uint32_t i = 0; i < kRead; ++i) buf[i] = (uint8_t)(BenchLcg(&seed) >> 24);
    BENCH_CHECK(write(fd, buf, kRead) == kRead, "write");
  }
  BENCH_CHECK(close(fd) == 0, "close");
  fd = open("read64k.dat", O_RDONLY);
  BENCH_CHECK(fd >= 0, "open for read");
  uint64_t h = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (i > 0 && i % (kFile / kRead) == 0) {
      BENCH_CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek");
    }
    ssize_t r = read(fd, buf, kRead);
    BENCH_CHECK(r == kRead, "read");
    /* Touch one byte per 4 KiB page so the data is really used. */
    for (uint32_t k = 0; k < kRead; k += 4096) h = BenchMix(h, buf[k]);
  }
  BENCH_CHECK(close(fd) == 0, "close");
  BENCH_CHECK(unlink("read64k.dat") == 0, "unlink");
  BenchChecksumU64(h);
  return 0;
}
