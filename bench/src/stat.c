/* stat(2) of a relative path in the (preopened) working directory:
 * path_filestat_get, including the runtime's sandboxed path resolution.
 * Size: number of calls. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

int main(int argc, char** argv) {
  int64_t n = BenchSize(argc, argv, 1300000);
  BENCH_CHECK(mkdir("statdir", 0755) == 0, "mkdir");
  int fd = open("statdir/stat.dat", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  BENCH_CHECK(fd >= 0, "open");
  static const char kData[777] = {1};
  BENCH_CHECK(write(fd, kData, sizeof(kData)) == (ssize_t)sizeof(kData), "write");
  BENCH_CHECK(close(fd) == 0, "close");
  uint64_t sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    struct stat st;
    BENCH_CHECK(stat("statdir/stat.dat", &st) == 0, "stat");
    sum += (uint64_t)st.st_size + (S_ISREG(st.st_mode) ? 1 : 0);
  }
  BENCH_CHECK(unlink("statdir/stat.dat") == 0, "unlink");
  BENCH_CHECK(rmdir("statdir") == 0, "rmdir");
  printf("checksum: %" PRIu64 "\n", sum);
  return 0;
}
