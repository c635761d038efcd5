/* create + write + close + unlink of a small file: the metadata-heavy
 * pattern of temp files and build tools. Size: number of cycles. */
#include <fcntl.h>
#include <unistd.h>

#include "common.h"

int main(int argc, char** argv) {
  int64_t n = BenchSize(argc, argv, 41000);
  static const char kData[100] = "weft cwcu benchmark payload";
  uint64_t written = 0;
  for (int64_t i = 0; i < n; ++i) {
    int fd = open("cwcu.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_EXCL, 0644);
    BENCH_CHECK(fd >= 0, "open");
    ssize_t r = write(fd, kData, sizeof(kData));
    BENCH_CHECK(r == (ssize_t)sizeof(kData), "write");
    written += (uint64_t)r;
    BENCH_CHECK(close(fd) == 0, "close");
    BENCH_CHECK(unlink("cwcu.tmp") == 0, "unlink");
  }
  printf("checksum: %" PRIu64 "\n", written);
  return 0;
}
