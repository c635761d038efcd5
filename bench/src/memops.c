/* memcpy/memset of mixed lengths (16 B .. 64 KiB) at shifting offsets: the
 * libc's memory routines (plain wasm loops in wasi-libc built without
 * bulk-memory, as clang-19's default target is). Size: repetitions of 256
 * operations. */
#include <string.h>

#include "common.h"

enum { kBuf = 1 << 20 };
static uint8_t src[kBuf];
static uint8_t dst[kBuf];

int main(int argc, char** argv) {
  int64_t reps = BenchSize(argc, argv, 10000);
  static const uint32_t kLens[8] = {16, 40, 100, 256, 1000, 4096, 16384, 65536};
  uint32_t seed = 3;
  for (uint32_t i = 0; i < kBuf; ++i) src[i] = (uint8_t)(BenchLcg(&seed) >> 24);
  uint32_t off = 0;
  for (int64_t r = 0; r < reps; ++r) {
    for (uint32_t k = 0; k < 256; ++k) {
      uint32_t len = kLens[(k + (uint32_t)r) & 7];
      off = (off + 4099) & (kBuf / 2 - 1);
      if (k & 1) {
        memset(dst + off, (int)(k + (uint32_t)r), len);
      } else {
        memcpy(dst + ((off * 3) & (kBuf / 2 - 1)), src + off, len);
      }
    }
    /* Feed back so no iteration is dead. */
    src[r & (kBuf - 1)] ^= dst[(r * 31) & (kBuf - 1)];
  }
  uint64_t h = 0;
  for (uint32_t i = 0; i < kBuf; i += 8) {
    uint64_t w;
    memcpy(&w, dst + i, 8);
    h = BenchMix(h, w);
  }
  BenchChecksumU64(h);
  return 0;
}
