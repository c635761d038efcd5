// Call: guest-pointer checks. Every failure here is a trap naming the WASI function.
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "wasi/abi/layout.h"
#include "weft/wasi/preview1.h"

namespace weft::wasi {

namespace abi {

bool IsValidUtf8(const uint8_t* s, size_t n) {
  size_t i = 0;
  // ASCII (every path the benchmarks use) eight bytes at a time.
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, s + i, 8);
    if (w & 0x8080808080808080ull) break;
  }
  if (i + 8 > n && n >= 8) {
    // All ASCII so far: the last (under eight) bytes as one word, overlapping.
    uint64_t w;
    std::memcpy(&w, s + n - 8, 8);
    if ((w & 0x8080808080808080ull) == 0) return true;
  }
  while (i < n) {
    uint8_t c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) {
      return false;  // overlong
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

}  // namespace abi

wasm::Trap Call::MakeTrap(std::string detail) const {
  return wasm::Trap::Make(wasm::TrapKind::kHost, std::string(function_) + ": " + detail);
}

wasm::Trap Call::BadPointer(uint32_t ptr, uint64_t len, uint32_t align) const {
  if (align > 1 && (ptr & (align - 1)) != 0) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "misaligned pointer 0x%x (needs alignment %u)", ptr, align);
    return MakeTrap(buf);
  }
  char buf[128];
  std::snprintf(buf, sizeof buf,
                "out of bounds memory access (pointer 0x%x, length %llu, memory size %llu)", ptr,
                static_cast<unsigned long long>(len), static_cast<unsigned long long>(size_));
  return MakeTrap(buf);
}

Result<std::string_view> Call::String(uint32_t ptr, uint32_t len) const {
  WEFT_TRY_ASSIGN(uint8_t* p, Bytes(ptr, len));
  if (!abi::IsValidUtf8(p, len)) return Err(Errno::kIlseq);
  return std::string_view(reinterpret_cast<const char*>(p), len);
}

}  // namespace weft::wasi
