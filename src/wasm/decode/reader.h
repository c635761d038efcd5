// Reader: a bounds-checked cursor over a module binary with the spec's LEB128 rules
// (spec 5.2.2). Used by the decoder, and by the compiler to re-walk validated bodies.
//
// Every error is a Diag whose offset is absolute (base_offset + position) and whose
// message uses the spec testsuite's wording:
//   "unexpected end"                   reading past the end
//   "integer representation too long"  more bytes than ceil(N/7)
//   "integer too large"                unused bits of the last byte are not zero/sign bits
// A Reader does not own the bytes; it is a value type, cheap to copy, not thread-safe.
// For bodies already validated, the *Unchecked functions at the bottom skip all checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"
#include "weft/wasm/types.h"

namespace weft::wasm {

class Reader {
 public:
  Reader() = default;
  // `base_offset` is the absolute offset of bytes[0] in the module, for diagnostics.
  explicit Reader(std::span<const uint8_t> bytes, size_t base_offset = 0)
      : begin_(bytes.data()), pos_(bytes.data()), end_(bytes.data() + bytes.size()),
        base_(base_offset) {}

  size_t offset() const { return base_ + static_cast<size_t>(pos_ - begin_); }
  size_t position() const { return static_cast<size_t>(pos_ - begin_); }
  size_t remaining() const { return static_cast<size_t>(end_ - pos_); }
  bool at_end() const { return pos_ == end_; }
  const uint8_t* data() const { return pos_; }

  Diag Error(std::string message) const { return Diag{offset(), std::move(message)}; }
  Diag ErrorAt(size_t abs_offset, std::string message) const {
    return Diag{abs_offset, std::move(message)};
  }

  Result<uint8_t, Diag> ReadByte() {
    if (pos_ == end_) return Err(Error("unexpected end"));
    return *pos_++;
  }
  Result<uint8_t, Diag> PeekByte() const {
    if (pos_ == end_) return Err(Error("unexpected end"));
    return *pos_;
  }

  Result<uint32_t, Diag> ReadU32() {
    if (pos_ != end_ && *pos_ < 0x80) return static_cast<uint32_t>(*pos_++);
    WEFT_TRY_ASSIGN(uint64_t v, ReadLeb(32, false));
    return static_cast<uint32_t>(v);
  }
  Result<uint64_t, Diag> ReadU64() { return ReadLeb(64, false); }
  Result<int32_t, Diag> ReadS32() {
    if (pos_ != end_ && *pos_ < 0x80) {  // one byte: sign-extend bit 6
      return static_cast<int32_t>(static_cast<uint32_t>(*pos_++) << 25) >> 25;
    }
    WEFT_TRY_ASSIGN(uint64_t v, ReadLeb(32, true));
    return static_cast<int32_t>(static_cast<uint32_t>(v));
  }
  Result<int64_t, Diag> ReadS64() {
    if (pos_ != end_ && *pos_ < 0x80) {
      return static_cast<int64_t>(static_cast<uint64_t>(*pos_++) << 57) >> 57;
    }
    WEFT_TRY_ASSIGN(uint64_t v, ReadLeb(64, true));
    return static_cast<int64_t>(v);
  }
  // A signed 33-bit LEB128 (block types by type index, spec 5.4.1).
  Result<int64_t, Diag> ReadS33() {
    WEFT_TRY_ASSIGN(uint64_t v, ReadLeb(33, true));
    return static_cast<int64_t>(v);
  }

  Result<uint32_t, Diag> ReadF32Bits() {
    if (remaining() < 4) return Err(Error("unexpected end"));
    uint32_t v;
    std::memcpy(&v, pos_, 4);  // little-endian host assumed (x86-64, aarch64)
    pos_ += 4;
    return v;
  }
  Result<uint64_t, Diag> ReadF64Bits() {
    if (remaining() < 8) return Err(Error("unexpected end"));
    uint64_t v;
    std::memcpy(&v, pos_, 8);
    pos_ += 8;
    return v;
  }

  // Returns `n` bytes and advances past them.
  Result<std::span<const uint8_t>, Diag> ReadBytes(size_t n) {
    if (n > remaining()) return Err(Error("unexpected end"));
    std::span<const uint8_t> s(pos_, n);
    pos_ += n;
    return s;
  }
  // Advances by `n` bytes the caller has checked are there (n <= remaining()).
  void Advance(size_t n) { pos_ += n; }
  Result<void, Diag> Skip(size_t n) {
    if (n > remaining()) return Err(Error("unexpected end"));
    pos_ += n;
    return {};
  }

  // A name: u32 length then UTF-8 bytes (spec 5.2.4). Checks the encoding.
  Result<std::string, Diag> ReadName() {
    WEFT_TRY_ASSIGN(std::string_view s, ReadNameView());
    return std::string(s);
  }
  // The same, as a view of the bytes being read.
  Result<std::string_view, Diag> ReadNameView() {
    WEFT_TRY_ASSIGN(uint32_t len, ReadU32());
    if (len > remaining()) return Err(Error("unexpected end"));
    std::string_view s(reinterpret_cast<const char*>(pos_), len);
    if (!IsValidUtf8(s)) return Err(Error("malformed UTF-8 encoding"));
    pos_ += len;
    return s;
  }

  // A vector count: a u32 that must not exceed the bytes left, assuming each element
  // takes at least `min_element_size` bytes. Checked BEFORE anything is allocated.
  Result<uint32_t, Diag> ReadCount(size_t min_element_size = 1) {
    WEFT_TRY_ASSIGN(uint32_t n, ReadU32());
    if (min_element_size != 0 && n > remaining() / min_element_size)
      return Err(Error("unexpected end"));
    return n;
  }

  static bool IsValidUtf8(std::string_view s) {
    size_t i = 0, n = s.size();
    while (i < n) {
      uint8_t c = static_cast<uint8_t>(s[i]);
      if (c < 0x80) { ++i; continue; }
      size_t len;
      uint32_t cp;
      if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
      else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
      else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
      else return false;
      if (i + len > n) return false;
      for (size_t k = 1; k < len; ++k) {
        uint8_t cc = static_cast<uint8_t>(s[i + k]);
        if ((cc & 0xC0) != 0x80) return false;
        cp = (cp << 6) | (cc & 0x3F);
      }
      // Overlong forms, surrogates and code points above U+10FFFF are malformed.
      if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
          (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return false;
      i += len;
    }
    return true;
  }

 private:
  // Reads an N-bit LEB128 (N = 32, 33 or 64). For signed values the result is
  // sign-extended to 64 bits.
  Result<uint64_t, Diag> ReadLeb(unsigned bits, bool is_signed) {
    const unsigned max_bytes = (bits + 6) / 7;
    uint64_t result = 0;
    unsigned shift = 0;
    for (unsigned i = 0;; ++i) {
      if (pos_ == end_) return Err(Error("unexpected end"));
      uint8_t byte = *pos_++;
      if (i == max_bytes - 1) {
        if (byte & 0x80) return Err(Diag{offset() - 1, "integer representation too long"});
        // Bits of the last byte beyond N: zero (unsigned) or copies of the sign bit (signed).
        unsigned used = bits - shift;  // payload bits still belonging to the value (1..7)
        uint8_t payload = byte & 0x7F;
        if (used < 7) {
          uint8_t extra_mask = static_cast<uint8_t>((0x7F >> used) << used);
          uint8_t extra = payload & extra_mask;
          if (is_signed) {
            bool sign = (payload >> (used - 1)) & 1;
            if (extra != (sign ? extra_mask : 0))
              return Err(Diag{offset() - 1, "integer too large"});
          } else if (extra != 0) {
            return Err(Diag{offset() - 1, "integer too large"});
          }
        }
        result |= static_cast<uint64_t>(payload) << shift;
        shift += 7;
        break;
      }
      result |= static_cast<uint64_t>(byte & 0x7F) << shift;
      shift += 7;
      if (!(byte & 0x80)) break;
    }
    if (is_signed && shift < 64) {
      // Sign-extend from the last payload bit read (bit shift-1).
      unsigned top = shift < bits ? shift : bits;
      if ((result >> (top - 1)) & 1) result |= ~uint64_t{0} << top;
      else if (top < 64) result &= (uint64_t{1} << top) - 1;
    } else if (!is_signed && shift > bits && bits < 64) {
      result &= (uint64_t{1} << bits) - 1;
    }
    return result;
  }

  const uint8_t* begin_ = nullptr;
  const uint8_t* pos_ = nullptr;
  const uint8_t* end_ = nullptr;
  size_t base_ = 0;
};

// ---- Unchecked readers for validated code (the compiler) --------------------------------
// Precondition: the bytes were accepted by DecodeModule, so they are well-formed.
// The bits of one LEB128 value, and in *shift how many bits its bytes held.
inline uint64_t ReadLebBitsUnchecked(const uint8_t*& p, unsigned* shift) {
  uint64_t result = 0;
  uint8_t byte;
  *shift = 0;
  do {
    byte = *p++;
    if (*shift < 64) result |= static_cast<uint64_t>(byte & 0x7F) << *shift;
    *shift += 7;
  } while (byte & 0x80);
  return result;
}
inline uint64_t ReadLebUnchecked(const uint8_t*& p) {
  unsigned shift;
  return ReadLebBitsUnchecked(p, &shift);
}
inline uint32_t ReadU32Unchecked(const uint8_t*& p) {
  return static_cast<uint32_t>(ReadLebUnchecked(p));
}
inline int64_t ReadSignedLebUnchecked(const uint8_t*& p) {
  unsigned shift;
  uint64_t result = ReadLebBitsUnchecked(p, &shift);
  // Sign-extend from the last byte's top value bit.
  if (shift < 64 && (p[-1] & 0x40)) result |= ~uint64_t{0} << shift;
  return static_cast<int64_t>(result);
}
inline int32_t ReadS32Unchecked(const uint8_t*& p) {
  return static_cast<int32_t>(ReadSignedLebUnchecked(p));
}
inline int64_t ReadS64Unchecked(const uint8_t*& p) { return ReadSignedLebUnchecked(p); }

}  // namespace weft::wasm
