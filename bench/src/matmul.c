/* Integer (wrapping uint32) matrix multiply C = A * B. Size: n (n x n). */
#include "common.h"

int main(int argc, char** argv) {
  uint32_t n = (uint32_t)BenchSize(argc, argv, 1100);
  uint32_t* a = malloc(sizeof(uint32_t) * n * n);
  uint32_t* b = malloc(sizeof(uint32_t) * n * n);
  uint32_t* c = calloc((size_t)n * n, sizeof(uint32_t));
  BENCH_CHECK(a && b && c, "malloc");
  uint32_t seed = 12345;
  for (uint32_t i = 0; i < n * n; ++i) a[i] = BenchLcg(&seed) >> 16;
  for (uint32_t i = 0; i < n * n; ++i) b[i] = BenchLcg(&seed) >> 16;
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t* ci = c + (size_t)i * n;
    for (uint32_t k = 0; k < n; ++k) {
      uint32_t aik = a[(size_t)i * n + k];
      const uint32_t* bk = b + (size_t)k * n;
      for (uint32_t j = 0; j < n; ++j) ci[j] += aik * bk[j];
    }
  }
  uint64_t h = 0;
  for (uint32_t i = 0; i < n * n; ++i) h = BenchMix(h, c[i]);
  BenchChecksumU64(h);
  free(a);
  free(b);
  free(c);
  return 0;
}
