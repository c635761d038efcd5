// The pure numeric semantics (interp/numeric.h): traps, NaN and signed-zero rules.
#include <cmath>
#include <limits>

#include "gtest/gtest.h"
#include "wasm/interp/numeric.h"

namespace weft::wasm::num {
namespace {

TEST(InterpNumeric, DivisionTraps) {
  uint32_t r = 0;
  TrapKind k = TrapKind::kUnreachable;
  EXPECT_FALSE(DivS<uint32_t>(1, 0, &r, &k));
  EXPECT_EQ(k, TrapKind::kIntegerDivideByZero);
  EXPECT_FALSE(DivS<uint32_t>(0x80000000u, 0xFFFFFFFFu, &r, &k));
  EXPECT_EQ(k, TrapKind::kIntegerOverflow);
  EXPECT_TRUE(DivS<uint32_t>(static_cast<uint32_t>(-7), 2, &r, &k));
  EXPECT_EQ(static_cast<int32_t>(r), -3);  // truncates toward zero
  EXPECT_TRUE(DivU<uint32_t>(0xFFFFFFFEu, 2, &r, &k));
  EXPECT_EQ(r, 0x7FFFFFFFu);
  // INT_MIN % -1 is 0, not a trap.
  EXPECT_TRUE(RemS<uint32_t>(0x80000000u, 0xFFFFFFFFu, &r, &k));
  EXPECT_EQ(r, 0u);
  EXPECT_TRUE(RemS<uint32_t>(static_cast<uint32_t>(-7), 2, &r, &k));
  EXPECT_EQ(static_cast<int32_t>(r), -1);  // sign of the dividend
  uint64_t r64 = 0;
  EXPECT_FALSE(RemU<uint64_t>(5, 0, &r64, &k));
  EXPECT_EQ(k, TrapKind::kIntegerDivideByZero);
  EXPECT_FALSE(DivS<uint64_t>(0x8000000000000000ull, ~0ull, &r64, &k));
  EXPECT_EQ(k, TrapKind::kIntegerOverflow);
}

TEST(InterpNumeric, ShiftsAndRotationsMaskTheCount) {
  EXPECT_EQ(Shl<uint32_t>(1, 33), 2u);
  EXPECT_EQ(ShrS<uint32_t>(0x80000000u, 31), 0xFFFFFFFFu);
  EXPECT_EQ(ShrU<uint64_t>(0x8000000000000000ull, 127), 1u);
  EXPECT_EQ(Rotl<uint32_t>(0x80000001u, 1), 3u);
  EXPECT_EQ(Rotr<uint32_t>(1, 33), 0x80000000u);
  EXPECT_EQ(Clz<uint32_t>(0), 32u);
  EXPECT_EQ(Ctz<uint64_t>(0), 64u);
  EXPECT_EQ(Popcnt<uint64_t>(~0ull), 64u);
}

TEST(InterpNumeric, TruncationRangesAndNaN) {
  int32_t i = 0;
  TrapKind k = TrapKind::kUnreachable;
  EXPECT_FALSE(Trunc<int32_t>(std::nanf(""), &i, &k));
  EXPECT_EQ(k, TrapKind::kInvalidConversion);
  EXPECT_FALSE(Trunc<int32_t>(2147483648.0f, &i, &k));
  EXPECT_EQ(k, TrapKind::kIntegerOverflow);
  EXPECT_TRUE(Trunc<int32_t>(-2147483648.0f, &i, &k));
  EXPECT_EQ(i, std::numeric_limits<int32_t>::min());
  EXPECT_TRUE(Trunc<int32_t>(-2147483648.9, &i, &k));  // truncates into range
  EXPECT_EQ(i, std::numeric_limits<int32_t>::min());
  EXPECT_FALSE(Trunc<int32_t>(-2147483649.0, &i, &k));
  uint32_t u = 0;
  EXPECT_TRUE(Trunc<uint32_t>(-0.9, &u, &k));
  EXPECT_EQ(u, 0u);
  EXPECT_FALSE(Trunc<uint32_t>(-1.0, &u, &k));
  EXPECT_TRUE(Trunc<uint32_t>(4294967295.9, &u, &k));
  EXPECT_EQ(u, 0xFFFFFFFFu);
  EXPECT_FALSE(Trunc<uint32_t>(4294967296.0, &u, &k));
  uint64_t u64 = 0;
  EXPECT_FALSE(Trunc<uint64_t>(18446744073709551616.0, &u64, &k));
  int64_t i64 = 0;
  EXPECT_FALSE(Trunc<int64_t>(9223372036854775808.0, &i64, &k));
  EXPECT_TRUE(Trunc<int64_t>(-9223372036854775808.0, &i64, &k));
  EXPECT_EQ(i64, std::numeric_limits<int64_t>::min());
}

TEST(InterpNumeric, SaturatingTruncation) {
  EXPECT_EQ(TruncSat<int32_t>(std::nanf("")), 0);
  EXPECT_EQ(TruncSat<int32_t>(1e10f), std::numeric_limits<int32_t>::max());
  EXPECT_EQ(TruncSat<int32_t>(-1e10f), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(TruncSat<uint32_t>(-5.0), 0u);
  EXPECT_EQ(TruncSat<uint64_t>(INFINITY), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(TruncSat<int64_t>(-INFINITY), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(TruncSat<int32_t>(-3.7), -3);
}

TEST(InterpNumeric, MinMaxSignedZeroAndNaN) {
  EXPECT_TRUE(std::signbit(Min(0.0f, -0.0f)));
  EXPECT_TRUE(std::signbit(Min(-0.0f, 0.0f)));
  EXPECT_FALSE(std::signbit(Max(-0.0, 0.0)));
  EXPECT_FALSE(std::signbit(Max(0.0, -0.0)));
  EXPECT_TRUE(std::isnan(Min(1.0f, std::nanf(""))));
  EXPECT_TRUE(std::isnan(Max(std::nan(""), 1.0)));
  EXPECT_EQ(Min(-std::numeric_limits<double>::infinity(), 3.0), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(Max(2.0f, 3.0f), 3.0f);
}

TEST(InterpNumeric, BitwiseSignOpsKeepNaNPayloads) {
  float snan = F32(0x7FA00001u);
  EXPECT_EQ(Bits(Neg(snan)), 0xFFA00001u);
  EXPECT_EQ(Bits(Abs(F32(0xFFA00001u))), 0x7FA00001u);
  EXPECT_EQ(Bits(Copysign(snan, -1.0f)), 0xFFA00001u);
  EXPECT_EQ(Bits(Neg(0.0)), 0x8000000000000000ull);
}

TEST(InterpNumeric, RoundingQuietsNaNAndRoundsHalfToEven) {
  EXPECT_EQ(Nearest(2.5), 2.0);
  EXPECT_EQ(Nearest(3.5f), 4.0f);
  EXPECT_TRUE(std::signbit(Nearest(-0.4)));
  EXPECT_TRUE(std::signbit(Ceil(-0.5)));
  float snan = F32(0x7FA00000u);
  EXPECT_NE(Bits(Ceil(snan)) & 0x00400000u, 0u);  // the quiet bit is set
  EXPECT_NE(Bits(Floor(snan)) & 0x00400000u, 0u);
  EXPECT_NE(Bits(Trunc(snan)) & 0x00400000u, 0u);
  EXPECT_NE(Bits(Nearest(snan)) & 0x00400000u, 0u);
}

}  // namespace
}  // namespace weft::wasm::num
