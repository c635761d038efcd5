/* Generic quicksort (qsort-like: void*, element size, comparator pointer)
 * of 64K uint32 per repetition: call-heavy through an indirect compare.
 * The sort is our own so every runtime runs the same algorithm.
 * Size: repetitions. */
#include <string.h>

#include "common.h"

typedef int (*CompareFn)(const void*, const void*);

static int CompareAsc(const void* a, const void* b) {
  uint32_t x = *(const uint32_t*)a, y = *(const uint32_t*)b;
  return (x > y) - (x < y);
}

static int CompareDesc(const void* a, const void* b) { return CompareAsc(b, a); }

static void Swap(uint8_t* a, uint8_t* b, uint32_t size) {
  for (uint32_t i = 0; i < size; ++i) {
    uint8_t t = a[i];
    a[i] = b[i];
    b[i] = t;
  }
}

static void Sort(void* base, uint32_t n, uint32_t size, CompareFn cmp) {
  uint8_t* a = base;
  while (n > 12) {
    /* Median of three into position 0, then Hoare-style partition. */
    uint8_t* lo = a;
    uint8_t* mid = a + (n / 2) * size;
    uint8_t* hi = a + (n - 1) * size;
    if (cmp(mid, lo) < 0) Swap(mid, lo, size);
    if (cmp(hi, mid) < 0) {
      Swap(hi, mid, size);
      if (cmp(mid, lo) < 0) Swap(mid, lo, size);
    }
    Swap(lo, mid, size);
    uint32_t i = 1, j = n - 1;
    for (;;) {
      while (cmp(a + i * size, a) < 0) ++i;
      while (cmp(a, a + j * size) < 0) --j;
      if (i >= j) break;
      Swap(a + i * size, a + j * size, size);
      ++i;
      --j;
    }
    Swap(a, a + j * size, size);
    /* Recurse on the smaller side, loop on the larger. */
    uint32_t left = j, right = n - j - 1;
    if (left < right) {
      Sort(a, left, size, cmp);
      a += (j + 1) * size;
      n = right;
    } else {
      Sort(a + (j + 1) * size, right, size, cmp);
      n = left;
    }
  }
  for (uint32_t i = 1; i < n; ++i) {
    for (uint32_t k = i; k > 0 && cmp(a + k * size, a + (k - 1) * size) < 0; --k) {
      Swap(a + k * size, a + (k - 1) * size, size);
    }
  }
}

enum { kCount = 1 << 16 };
static uint32_t values[kCount];

int main(int argc, char** argv) {
  int64_t reps = BenchSize(argc, argv, 90);
  /* Chosen at run time so the compiler cannot turn the call into a direct one. */
  CompareFn cmps[2] = {CompareAsc, CompareDesc};
  CompareFn cmp = cmps[argc > 2];
  uint32_t seed = 99;
  uint64_t h = 0;
  for (int64_t r = 0; r < reps; ++r) {
    for (uint32_t i = 0; i < kCount; ++i) values[i] = BenchLcg(&seed) >> (r & 7);
    Sort(values, kCount, sizeof(uint32_t), cmp);
    for (uint32_t i = 1; i < kCount; ++i) {
      if (cmp(&values[i], &values[i - 1]) < 0) {
        fprintf(stderr, "not sorted at %u\n", i);
        return 1;
      }
    }
    for (uint32_t i = 0; i < kCount; i += 257) h = BenchMix(h, values[i]);
  }
  BenchChecksumU64(h);
  return 0;
}
