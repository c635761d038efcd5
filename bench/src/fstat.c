/* fstat(2) of an open file: fd_filestat_get. Size: number of calls. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

int main(int argc, char** argv) {
  int64_t n = BenchSize(argc, argv, 2500000);
  int fd = open("fstat.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
  BENCH_CHECK(fd >= 0, "open");
  static const char kData[1234] = {1};
  BENCH_CHECK(write(fd, kData, sizeof(kData)) == (ssize_t)sizeof(kData), "write");
  uint64_t sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    struct stat st;
    BENCH_CHECK(fstat(fd, &st) == 0, "fstat");
    sum += (uint64_t)st.st_size + (S_ISREG(st.st_mode) ? 1 : 0);
  }
  BENCH_CHECK(close(fd) == 0, "close");
  BENCH_CHECK(unlink("fstat.dat") == 0, "unlink");
  printf("checksum: %" PRIu64 "\n", sum);
  return 0;
}
