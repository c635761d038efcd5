/* Sieve of Eratosthenes over ~2M bytes: tight loops on byte loads/stores.
 * Size: repetitions (each with a slightly different limit). */
#include <string.h>

#include "common.h"

enum { kBase = 2000000, kSpread = 100000 };
static uint8_t composite[kBase + kSpread];

int main(int argc, char** argv) {
  int64_t reps = BenchSize(argc, argv, 175);
  uint64_t h = 0;
  for (int64_t r = 0; r < reps; ++r) {
    uint32_t limit = kBase + (uint32_t)((r * 7919) % kSpread);
    memset(composite, 0, limit);
    uint32_t count = 0;
    for (uint32_t i = 2; i < limit; ++i) {
      if (composite[i]) continue;
      ++count;
      for (uint64_t j = (uint64_t)i * i; j < limit; j += i) composite[j] = 1;
    }
    h = BenchMix(h, count);
  }
  BenchChecksumU64(h);
  return 0;
}
