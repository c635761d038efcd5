/* Recursive Fibonacci: call and return overhead. Size: n. */
#include "common.h"

static uint32_t Fib(uint32_t n) { return n < 2 ? n : Fib(n - 1) + Fib(n - 2); }

int main(int argc, char** argv) {
  uint32_t n = (uint32_t)BenchSize(argc, argv, 43);
  BenchChecksumU64(Fib(n));
  return 0;
}
