// random_get body.
#include "wasi/preview1/bodies.h"

namespace weft::wasi::preview1 {

Result<void> random_get(Call& call, u32 buf, u32 buf_len) {
  WEFT_TRY_ASSIGN(uint8_t* out, call.Bytes(buf, buf_len));
  WEFT_TRY(call.ctx().Random(std::span<uint8_t>(out, buf_len)));
  return {};
}

}  // namespace weft::wasi::preview1
