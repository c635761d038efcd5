/* clock_gettime(CLOCK_MONOTONIC) in a loop: the cheapest host call
 * (clock_time_get). Native uses the vDSO. Size: number of calls. */
#include <time.h>

#include "common.h"

int main(int argc, char** argv) {
  int64_t n = BenchSize(argc, argv, 27000000);
  struct timespec prev = {0, 0}, now;
  int64_t monotonic = 0;
  for (int64_t i = 0; i < n; ++i) {
    BENCH_CHECK(clock_gettime(CLOCK_MONOTONIC, &now) == 0, "clock_gettime");
    if (now.tv_sec > prev.tv_sec || (now.tv_sec == prev.tv_sec && now.tv_nsec >= prev.tv_nsec)) {
      ++monotonic;
    }
    prev = now;
  }
  /* Every reading must be >= the one before it. */
  printf("checksum: %" PRId64 "\n", monotonic);
  return 0;
}
