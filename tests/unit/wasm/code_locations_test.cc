// CodeLocations: the compact (code index -> module byte offset) table behind backtraces
// gives the same answers as the plain sorted pairs it replaces, and traps find them.
#include "wasm/compile/code_locations.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "runtime_wat.h"

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

// Locations are built on the first trap through a function by translating it again.
// Each trap's offset is that of its instruction in the module bytes, for two traps in one
// function (the second uses the table the first built) and for the calling frame.
namespace weft::wasm {
namespace {

size_t FindOnce(const std::vector<uint8_t>& bytes, std::vector<uint8_t> pattern) {
  size_t found = SIZE_MAX, count = 0;
  for (size_t i = 0; i + pattern.size() <= bytes.size(); ++i)
    if (std::equal(pattern.begin(), pattern.end(), bytes.begin() + i)) found = i, ++count;
  EXPECT_EQ(count, 1u) << "pattern not unique in the module";
  return found;
}

TEST(TrapOffsets, AreThoseOfTheTrappingInstructionAndTheCall) {
  std::vector<uint8_t> bytes = testing::WatToWasm(R"(
    (module
      (func $check (param i32) (result i32)
        local.get 0 i32.const 7 i32.lt_s
        if (result i32) i32.const 1
        else
          local.get 0 i32.const 100 i32.gt_s  ;; a fused compare-and-branch before the trap
          if unreachable end
          i32.const 1000 local.get 0 i32.const 7 i32.sub i32.div_u
        end)
      (func (export "run") (param i32) (result i32)
        local.get 0 call $check))
  )");
  ASSERT_FALSE(bytes.empty());
  auto module = DecodeModule(bytes);
  ASSERT_TRUE(module.ok());
  Store store;
  auto inst = Linker().Instantiate(store, *module);
  ASSERT_TRUE(inst.ok());
  FuncInst* run = (*inst)->GetFunc("run");
  const uint32_t unreachable_at = static_cast<uint32_t>(FindOnce(bytes, {0x04, 0x40, 0x00, 0x0b}) + 2);
  const uint32_t div_at = static_cast<uint32_t>(FindOnce(bytes, {0x6b, 0x6e}) + 1);
  const uint32_t call_at = static_cast<uint32_t>(FindOnce(bytes, {0x20, 0x00, 0x10, 0x00}) + 2);

  auto expect_trap = [&](uint32_t arg, TrapKind kind, uint32_t trap_at) {
    Value v = Value::I32(arg);
    auto r = Invoke(store, run, {&v, 1});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, kind);
    ASSERT_EQ(r.error().backtrace.size(), 2u);
    EXPECT_EQ(r.error().backtrace[0].code_offset, trap_at);
    EXPECT_EQ(r.error().backtrace[1].code_offset, call_at);
  };
  expect_trap(200, TrapKind::kUnreachable, unreachable_at);
  expect_trap(7, TrapKind::kIntegerDivideByZero, div_at);  // from the table the first built
}

}  // namespace
}  // namespace weft::wasm
