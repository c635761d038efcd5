/* open(2) + close(2) of an existing file: path_open + fd_close, i.e. path
 * resolution plus capability-table insert/remove. Size: number of pairs. */
#include <fcntl.h>
#include <unistd.h>

#include "common.h"

int main(int argc, char** argv) {
  int64_t n = BenchSize(argc, argv, 700000);
  int fd = open("openclose.dat", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  BENCH_CHECK(fd >= 0, "create");
  BENCH_CHECK(close(fd) == 0, "close");
  uint64_t opened = 0;
  for (int64_t i = 0; i < n; ++i) {
    fd = open("openclose.dat", O_RDONLY);
    BENCH_CHECK(fd >= 0, "open");
    ++opened;
    BENCH_CHECK(close(fd) == 0, "close");
  }
  BENCH_CHECK(unlink("openclose.dat") == 0, "unlink");
  /* Not the fd numbers: a guest's table also holds its preopen. */
  printf("checksum: %" PRIu64 "\n", opened);
  return 0;
}
