// Pure semantics of the Wasm numeric instructions that are more than one C++ operator:
// division/remainder (traps), float->int truncation (traps and saturating), min/max,
// nearest, copysign, rotations and bit counts. Header-only and free of runtime state so
// the interpreter inlines them and unit tests call them directly.
//
// Trapping functions return false (and leave *out untouched) with the trap kind in *trap.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "weft/wasm/types.h"

namespace weft::wasm::num {

template <class T>
inline bool DivS(T a, T b, T* out, TrapKind* trap) {
  using S = std::make_signed_t<T>;
  if (b == 0) { *trap = TrapKind::kIntegerDivideByZero; return false; }
  if (static_cast<S>(a) == std::numeric_limits<S>::min() && static_cast<S>(b) == -1) {
    *trap = TrapKind::kIntegerOverflow;
    return false;
  }
  *out = static_cast<T>(static_cast<S>(a) / static_cast<S>(b));
  return true;
}

template <class T>
inline bool DivU(T a, T b, T* out, TrapKind* trap) {
  if (b == 0) { *trap = TrapKind::kIntegerDivideByZero; return false; }
  *out = a / b;
  return true;
}

template <class T>
inline bool RemS(T a, T b, T* out, TrapKind* trap) {
  using S = std::make_signed_t<T>;
  if (b == 0) { *trap = TrapKind::kIntegerDivideByZero; return false; }
  // INT_MIN % -1 is 0 in Wasm but undefined behaviour in C++.
  if (static_cast<S>(b) == -1) { *out = 0; return true; }
  *out = static_cast<T>(static_cast<S>(a) % static_cast<S>(b));
  return true;
}

template <class T>
inline bool RemU(T a, T b, T* out, TrapKind* trap) {
  if (b == 0) { *trap = TrapKind::kIntegerDivideByZero; return false; }
  *out = a % b;
  return true;
}

template <class T>
inline T Rotl(T a, T b) { return std::rotl(a, static_cast<int>(b & (sizeof(T) * 8 - 1))); }
template <class T>
inline T Rotr(T a, T b) { return std::rotr(a, static_cast<int>(b & (sizeof(T) * 8 - 1))); }
template <class T>
inline T Shl(T a, T b) { return a << (b & (sizeof(T) * 8 - 1)); }
template <class T>
inline T ShrU(T a, T b) { return a >> (b & (sizeof(T) * 8 - 1)); }
template <class T>
inline T ShrS(T a, T b) {
  using S = std::make_signed_t<T>;
  return static_cast<T>(static_cast<S>(a) >> (b & (sizeof(T) * 8 - 1)));
}

// Float bit helpers: sign manipulation is a bit operation in Wasm (NaN payloads kept).
inline uint32_t Bits(float f) { return std::bit_cast<uint32_t>(f); }
inline uint64_t Bits(double d) { return std::bit_cast<uint64_t>(d); }
inline float F32(uint32_t b) { return std::bit_cast<float>(b); }
inline double F64(uint64_t b) { return std::bit_cast<double>(b); }

inline float Abs(float a) { return F32(Bits(a) & 0x7FFFFFFFu); }
inline double Abs(double a) { return F64(Bits(a) & 0x7FFFFFFFFFFFFFFFull); }
inline float Neg(float a) { return F32(Bits(a) ^ 0x80000000u); }
inline double Neg(double a) { return F64(Bits(a) ^ 0x8000000000000000ull); }
inline float Copysign(float a, float b) {
  return F32((Bits(a) & 0x7FFFFFFFu) | (Bits(b) & 0x80000000u));
}
inline double Copysign(double a, double b) {
  return F64((Bits(a) & 0x7FFFFFFFFFFFFFFFull) | (Bits(b) & 0x8000000000000000ull));
}

// min/max: NaN if either operand is NaN; -0 < +0.
template <class F>
inline F Min(F a, F b) {
  if (a != a || b != b) return a + b;  // a quiet NaN
  if (a == b) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}
template <class F>
inline F Max(F a, F b) {
  if (a != a || b != b) return a + b;
  if (a == b) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}

// Rounding. libm returns a signalling NaN unchanged; Wasm wants an arithmetic (quiet)
// NaN, so NaN inputs go through an arithmetic op. Nearest rounds half to even under the
// default rounding mode (never changed by weft).
template <class F>
inline F Ceil(F a) { return a != a ? a + a : std::ceil(a); }
template <class F>
inline F Floor(F a) { return a != a ? a + a : std::floor(a); }
template <class F>
inline F Trunc(F a) { return a != a ? a + a : std::trunc(a); }
template <class F>
inline F Nearest(F a) { return a != a ? a + a : std::nearbyint(a); }

// Float -> integer truncation. In-range test on the untruncated value: the range is
// (lo, hi) exclusive where lo/hi are the first values that truncate out of range.
template <class I, class F>
inline bool InRange(F x) {
  if constexpr (std::is_signed_v<I>) {
    // -2^(N-1) is representable exactly; the excluded low bound is the next value below
    // that truncates out of range: -2^(N-1) - 1.
    constexpr F lo = -static_cast<F>(std::numeric_limits<I>::max()) - F(1);  // -2^(N-1)
    constexpr F hi = -lo;                                                    // 2^(N-1)
    if constexpr (sizeof(F) > sizeof(I)) {
      return x > lo - F(1) && x < hi;  // f64 -> i32: (-2^31-1, 2^31)
    } else {
      return x >= lo && x < hi;
    }
  } else {
    constexpr F hi = static_cast<F>(std::numeric_limits<I>::max() / 2 + 1) * F(2);  // 2^N
    return x > F(-1) && x < hi;
  }
}

template <class I, class F>
inline bool Trunc(F x, I* out, TrapKind* trap) {
  if (x != x) { *trap = TrapKind::kInvalidConversion; return false; }
  if (!InRange<I>(x)) { *trap = TrapKind::kIntegerOverflow; return false; }
  *out = static_cast<I>(x);
  return true;
}

template <class I, class F>
inline I TruncSat(F x) {
  if (x != x) return 0;
  if (!InRange<I>(x)) return x < 0 ? std::numeric_limits<I>::min() : std::numeric_limits<I>::max();
  return static_cast<I>(x);
}

template <class T>
inline T Clz(T a) { return static_cast<T>(std::countl_zero(a)); }
template <class T>
inline T Ctz(T a) { return static_cast<T>(std::countr_zero(a)); }
template <class T>
inline T Popcnt(T a) { return static_cast<T>(std::popcount(a)); }

}  // namespace weft::wasm::num
