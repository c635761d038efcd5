/* 1-byte write(2)s to a file in the working (preopened) directory:
 * fd_write per byte. Rewinds every 1 MiB to bound the file.
 * Size: number of writes. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

int main(int argc, char** argv) {
  int64_t n = BenchSize(argc, argv, 1900000);
  int fd = open("write1.out", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  BENCH_CHECK(fd >= 0, "open write1.out");
  uint64_t written = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (i > 0 && (i & ((1 << 20) - 1)) == 0) {
      BENCH_CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek");
    }
    char c = (char)('a' + i % 26);
    ssize_t r = write(fd, &c, 1);
    BENCH_CHECK(r == 1, "write");
    written += (uint64_t)r;
  }
  struct stat st;
  BENCH_CHECK(fstat(fd, &st) == 0, "fstat");
  BENCH_CHECK(close(fd) == 0, "close");
  BENCH_CHECK(unlink("write1.out") == 0, "unlink");
  printf("checksum: %" PRIu64 " %" PRId64 "\n", written, (int64_t)st.st_size);
  return 0;
}
