// args_* and environ_* bodies: NUL-terminated strings packed into the guest's buffer,
// with a pointer to each in the guest's array.
#include <cstring>
#include <string>
#include <vector>

#include "wasi/abi/layout.h"
#include "wasi/preview1/bodies.h"

namespace weft::wasi::preview1 {

namespace {

uint64_t PackedSize(const std::vector<std::string>& strings) {
  uint64_t n = 0;
  for (const std::string& s : strings) n += s.size() + 1;
  return n;
}

Result<void> GetStrings(Call& call, const std::vector<std::string>& strings, u32 array,
                        u32 buf) {
  WEFT_TRY_ASSIGN(uint8_t* arr, call.Array(array, strings.size(), 4, 4));
  WEFT_TRY_ASSIGN(uint8_t* out, call.Bytes(buf, PackedSize(strings)));
  uint32_t offset = 0;
  for (size_t i = 0; i < strings.size(); ++i) {
    abi::PutU32(arr + 4 * i, buf + offset);
    std::memcpy(out + offset, strings[i].data(), strings[i].size());
    out[offset + strings[i].size()] = 0;
    offset += static_cast<uint32_t>(strings[i].size() + 1);
  }
  return {};
}

Result<void> SizesGet(Call& call, const std::vector<std::string>& strings, u32 count_out,
                      u32 size_out) {
  WEFT_TRY(call.Bytes(count_out, 4, 4));
  WEFT_TRY(call.Bytes(size_out, 4, 4));
  uint64_t size = PackedSize(strings);
  if (size > UINT32_MAX) return Err(Errno::kOverflow);
  WEFT_TRY(call.StoreU32(count_out, static_cast<u32>(strings.size())));
  WEFT_TRY(call.StoreU32(size_out, static_cast<u32>(size)));
  return {};
}

}  // namespace

Result<void> args_get(Call& call, u32 argv, u32 argv_buf) {
  return GetStrings(call, call.ctx().args(), argv, argv_buf);
}

Result<void> args_sizes_get(Call& call, u32 argc_out, u32 argv_buf_size_out) {
  return SizesGet(call, call.ctx().args(), argc_out, argv_buf_size_out);
}

Result<void> environ_get(Call& call, u32 environ, u32 environ_buf) {
  return GetStrings(call, call.ctx().env(), environ, environ_buf);
}

Result<void> environ_sizes_get(Call& call, u32 count_out, u32 buf_size_out) {
  return SizesGet(call, call.ctx().env(), count_out, buf_size_out);
}

}  // namespace weft::wasi::preview1
