// Names and formatting of the core types (decode/validation side). The trap helpers
// (TrapKindMessage, Trap::*, FormatValue) live with the runtime.
#include "weft/wasm/types.h"

#include <cstdio>

namespace weft::wasm {

const char* ValTypeName(ValType t) {
  switch (t) {
    case ValType::kI32: return "i32";
    case ValType::kI64: return "i64";
    case ValType::kF32: return "f32";
    case ValType::kF64: return "f64";
    case ValType::kV128: return "v128";
    case ValType::kFuncRef: return "funcref";
    case ValType::kExternRef: return "externref";
  }
  return "<invalid type>";
}

const char* ExternKindName(ExternKind k) {
  switch (k) {
    case ExternKind::kFunc: return "func";
    case ExternKind::kTable: return "table";
    case ExternKind::kMemory: return "memory";
    case ExternKind::kGlobal: return "global";
  }
  return "<invalid kind>";
}

std::string Diag::ToString() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "offset 0x%llx: ", static_cast<unsigned long long>(offset));
  return buf + message;
}

}  // namespace weft::wasm
