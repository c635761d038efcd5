// The LEB128/UTF-8 reader (src/wasm/decode/reader.h): spec 5.2.2 limits and messages.
#include "wasm/decode/reader.h"

#include <gtest/gtest.h>

#include <vector>

namespace weft::wasm {
namespace {

using Bytes = std::vector<uint8_t>;

template <class F>
std::string ErrorOf(const Bytes& b, F read) {
  Reader r(b);
  auto res = read(r);
  return res.ok() ? "" : res.error().message;
}

TEST(DecodeReader, U32) {
  Bytes r_bytes = {0xE5, 0x8E, 0x26};
  Reader r(r_bytes);
  EXPECT_EQ(*r.ReadU32(), 624485u);
  EXPECT_TRUE(r.at_end());

  Bytes max_bytes = {0xFF, 0xFF, 0xFF, 0xFF, 0x0F};
  Reader max(max_bytes);
  EXPECT_EQ(*max.ReadU32(), 0xFFFFFFFFu);
  // Padded but within 5 bytes: allowed.
  Bytes padded_bytes = {0x80, 0x80, 0x80, 0x80, 0x00};
  Reader padded(padded_bytes);
  EXPECT_EQ(*padded.ReadU32(), 0u);

  auto u32 = [](Reader& r) { return r.ReadU32(); };
  EXPECT_EQ(ErrorOf({0xFF, 0xFF, 0xFF, 0xFF, 0x1F}, u32), "integer too large");
  EXPECT_EQ(ErrorOf({0xFF, 0xFF, 0xFF, 0xFF, 0x4F}, u32), "integer too large");
  EXPECT_EQ(ErrorOf({0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, u32), "integer representation too long");
  EXPECT_EQ(ErrorOf({0x80, 0x80}, u32), "unexpected end");
  EXPECT_EQ(ErrorOf({}, u32), "unexpected end");
}

TEST(DecodeReader, ErrorOffsetsAreAbsolute) {
  Bytes b = {0xAA, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F};
  Reader r(std::span<const uint8_t>(b).subspan(1), /*base_offset=*/100);
  auto res = r.ReadU32();
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().offset, 104u);  // the 5th byte of the LEB, at 100 + 4
  EXPECT_EQ(res.error().ToString(), "offset 0x68: integer too large");
}

TEST(DecodeReader, S32) {
  Bytes r_bytes = {0x7F, 0x80, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x80, 0x80, 0x80, 0x80, 0x78};
  Reader r(r_bytes);
  EXPECT_EQ(*r.ReadS32(), -1);
  EXPECT_EQ(*r.ReadS32(), -128);
  EXPECT_EQ(*r.ReadS32(), INT32_MAX);
  EXPECT_EQ(*r.ReadS32(), INT32_MIN);
  auto s32 = [](Reader& r) { return r.ReadS32(); };
  // The unused bits of the 5th byte must all equal the sign bit.
  EXPECT_EQ(ErrorOf({0xFF, 0xFF, 0xFF, 0xFF, 0x0F}, s32), "integer too large");
  EXPECT_EQ(ErrorOf({0x80, 0x80, 0x80, 0x80, 0x70}, s32), "integer too large");
  EXPECT_EQ(ErrorOf({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}, s32), "integer representation too long");
}

TEST(DecodeReader, S64AndU64) {
  Bytes r_bytes = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7F};
  Reader r(r_bytes);
  EXPECT_EQ(*r.ReadS64(), INT64_MIN);
  auto s64 = [](Reader& r) { return r.ReadS64(); };
  EXPECT_EQ(ErrorOf({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, s64),
            "integer too large");
  EXPECT_EQ(ErrorOf({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00}, s64),
            "integer representation too long");
  Bytes u_bytes = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
  Reader u(u_bytes);
  EXPECT_EQ(*u.ReadU64(), UINT64_MAX);
  auto u64 = [](Reader& r) { return r.ReadU64(); };
  EXPECT_EQ(ErrorOf({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02}, u64),
            "integer too large");
}

TEST(DecodeReader, S33BlockTypeIndex) {
  Bytes r_bytes = {0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x40};
  Reader r(r_bytes);
  EXPECT_EQ(*r.ReadS33(), 0xFFFFFFFFll);
  EXPECT_EQ(*r.ReadS33(), -64);
  auto s33 = [](Reader& r) { return r.ReadS33(); };
  EXPECT_EQ(ErrorOf({0x80, 0x80, 0x80, 0x80, 0x20}, s33), "integer too large");
}

TEST(DecodeReader, UncheckedMatchesChecked) {
  for (int64_t v : std::vector<int64_t>{0, 1, -1, 63, 64, -64, -65, int64_t{1} << 40, INT64_MIN, INT64_MAX}) {
    Bytes b;
    int64_t x = v;
    for (;;) {
      uint8_t byte = x & 0x7F;
      x >>= 7;
      bool done = (x == 0 && !(byte & 0x40)) || (x == -1 && (byte & 0x40));
      b.push_back(done ? byte : (byte | 0x80));
      if (done) break;
    }
    Reader r(b);
    EXPECT_EQ(*r.ReadS64(), v);
    const uint8_t* p = b.data();
    EXPECT_EQ(ReadS64Unchecked(p), v);
    EXPECT_EQ(p, b.data() + b.size());
  }
}

TEST(DecodeReader, NamesAndUtf8) {
  Bytes ok_bytes = {0x03, 'a', 0xC3, 0xA9};
  Reader ok(ok_bytes);
  EXPECT_EQ(*ok.ReadName(), "a\xC3\xA9");
  auto name = [](Reader& r) { return r.ReadName(); };
  EXPECT_EQ(ErrorOf({0x02, 0xC0, 0x80}, name), "malformed UTF-8 encoding");  // overlong
  EXPECT_EQ(ErrorOf({0x03, 0xED, 0xA0, 0x80}, name), "malformed UTF-8 encoding");  // surrogate
  EXPECT_EQ(ErrorOf({0x04, 0xF4, 0x90, 0x80, 0x80}, name), "malformed UTF-8 encoding");  // > U+10FFFF
  EXPECT_EQ(ErrorOf({0x01, 0x80}, name), "malformed UTF-8 encoding");
  EXPECT_EQ(ErrorOf({0x05, 'a'}, name), "unexpected end");
}

TEST(DecodeReader, CountIsCheckedAgainstRemainingBytes) {
  Bytes r_bytes = {0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00};
  Reader r(r_bytes);
  auto res = r.ReadCount(1);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().message, "unexpected end");
  Bytes r2_bytes = {0x02, 0x00, 0x00};
  Reader r2(r2_bytes);
  EXPECT_EQ(*r2.ReadCount(1), 2u);
}

}  // namespace
}  // namespace weft::wasm
