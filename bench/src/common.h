/* Shared helpers for weft's benchmark programs.
 *
 * Every benchmark is one C file that builds unchanged both natively (gcc -O2,
 * POSIX) and for wasm32-wasi (clang-19, wasi-libc, whose POSIX calls map onto
 * the WASI preview1 functions). Each takes its size as argv[1] and prints one
 * line "checksum: ..." that must be identical on every runtime. Types are
 * fixed-width because `long` and `size_t` are 32-bit on wasm32. */
#ifndef WEFT_BENCH_COMMON_H_
#define WEFT_BENCH_COMMON_H_

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static inline int64_t BenchSize(int argc, char** argv, int64_t def) {
  if (argc < 2) return def;
  char* end = NULL;
  long long v = strtoll(argv[1], &end, 10);
  if (end == argv[1] || *end != '\0' || v < 0) {
    fprintf(stderr, "bad size '%s'\n", argv[1]);
    exit(2);
  }
  return (int64_t)v;
}

static inline void BenchChecksumU64(uint64_t v) {
  printf("checksum: %016" PRIx64 "\n", v);
}

/* Fails loudly: a benchmark that silently mis-measures is worse than none. */
#define BENCH_CHECK(cond, what)                                  \
  do {                                                           \
    if (!(cond)) {                                               \
      perror(what);                                              \
      exit(1);                                                   \
    }                                                            \
  } while (0)

/* Deterministic 32-bit LCG (Numerical Recipes constants). */
static inline uint32_t BenchLcg(uint32_t* state) {
  *state = *state * 1664525u + 1013904223u;
  return *state;
}

/* FNV-1a style mixing of a 64-bit value into a running hash. */
static inline uint64_t BenchMix(uint64_t h, uint64_t v) {
  h ^= v;
  h *= 0x100000001b3ull;
  return h ^ (h >> 29);
}

#endif /* WEFT_BENCH_COMMON_H_ */
