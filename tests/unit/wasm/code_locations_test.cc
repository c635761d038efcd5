// CodeLocations: the compact (code index -> module byte offset) table behind backtraces
// gives the same answers as the plain sorted pairs it replaces.
#include "wasm/compile/code_locations.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace weft::wasm {
namespace {

using Pair = CodeLocations::Pair;

// The rule the table implements, written the obvious way: the offset of the last pair at
// or before code_index, 0 before the first.
uint32_t Expected(const std::vector<Pair>& pairs, size_t code_index) {
  uint32_t result = 0;
  for (const Pair& p : pairs)
    if (p.first <= code_index) result = p.second;
  return result;
}

TEST(CodeLocations, EmptyAndSmallTables) {
  EXPECT_EQ(CodeLocations().At(0), 0u);
  EXPECT_EQ(CodeLocations(std::vector<Pair>{}).At(5), 0u);
  std::vector<Pair> pairs = {{2, 17}, {5, 18}, {9, 300}, {10, 70000}};
  CodeLocations t(pairs);
  for (size_t i = 0; i < 14; ++i) EXPECT_EQ(t.At(i), Expected(pairs, i)) << "code index " << i;
  EXPECT_EQ(t.At(1), 0u);
  EXPECT_EQ(t.At(4), 17u);
  EXPECT_EQ(t.At(9), 300u);
  EXPECT_EQ(t.At(1000000), 70000u);
}

TEST(CodeLocations, LargeTablesAcrossCheckpointsMatchThePlainPairs) {
  std::mt19937 rng(7);
  for (size_t n : {63u, 64u, 65u, 128u, 1000u, 20000u}) {
    std::vector<Pair> pairs;
    uint32_t code = 0, offset = 40;
    for (size_t i = 0; i < n; ++i) {
      code += 1 + rng() % 9;
      // Mostly small steps, now and then a big one (a long immediate, a far function).
      offset += rng() % 16 == 0 ? 1 + rng() % 100000 : 1 + rng() % 6;
      pairs.emplace_back(code, offset);
    }
    CodeLocations t(pairs);
    for (size_t i = 0; i <= code + 3; i += 1 + i / 500)
      ASSERT_EQ(t.At(i), Expected(pairs, i)) << n << " pairs, code index " << i;
    // Every pair's own code index, and the word before it.
    for (const Pair& p : pairs) {
      ASSERT_EQ(t.At(p.first), p.second);
      ASSERT_EQ(t.At(p.first - 1), Expected(pairs, p.first - 1));
    }
    EXPECT_LT(t.bytes(), n * 4) << "about 2 bytes a pair, not 8";
  }
}

TEST(CodeLocations, OffsetsThatGoBackAreStillExact) {
  std::vector<Pair> pairs = {{0, 5000}, {3, 4000}, {4, 4001}, {8, 0xFFFFFFF0u}, {9, 12}};
  CodeLocations t(pairs);
  for (size_t i = 0; i < 12; ++i) EXPECT_EQ(t.At(i), Expected(pairs, i)) << "code index " << i;
}

}  // namespace
}  // namespace weft::wasm
