// The Opcode enum generated from src/wasm/opcodes.def, shared by the validator and the
// compiler. Value = (prefix << 8) | code, so single-byte opcodes keep their byte value and
// 0xFC-prefixed ones are 0xFC00 | subcode.
#pragma once

#include <cstdint>

namespace weft::wasm {

enum class Opcode : uint16_t {
#define WEFT_OP(prefix, code, name, text) name = ((prefix) << 8) | (code),
#include "wasm/opcodes.def"
#undef WEFT_OP
};

// The spec's text name of `op` ("i32.add"), or "<unknown>".
inline const char* OpcodeName(Opcode op) {
  switch (op) {
#define WEFT_OP(prefix, code, name, text) \
  case Opcode::name:                      \
    return text;
#include "wasm/opcodes.def"
#undef WEFT_OP
  }
  return "<unknown>";
}

}  // namespace weft::wasm
