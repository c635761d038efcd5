// Trap messages, backtrace formatting and value formatting.
#include <charconv>
#include <cmath>
#include <string>

#include "weft/wasm/types.h"

namespace weft::wasm {

const char* TrapKindMessage(TrapKind k) {
  switch (k) {
#define WEFT_TRAP(name, text) \
  case TrapKind::name:        \
    return text;
#include "weft/wasm/trap_kinds.def"
#undef WEFT_TRAP
  }
  return "unknown trap";
}

std::string Trap::Message() const {
  if (kind == TrapKind::kExit) return "exit status " + std::to_string(exit_code);
  std::string m = TrapKindMessage(kind);
  if (!detail.empty()) m += ": " + detail;
  return m;
}

std::string Trap::ToString() const {
  std::string s = Message();
  if (backtrace.empty()) return s;
  s += "\nwasm backtrace:";
  for (size_t i = 0; i < backtrace.size(); ++i) {
    const TrapFrame& f = backtrace[i];
    char offset[32];
    std::snprintf(offset, sizeof offset, "0x%x", f.code_offset);
    s += "\n  " + std::string(i < 10 ? "  " : " ") + std::to_string(i) + ": " +
         std::string(offset) + " - " + (f.module_name.empty() ? "<unknown>" : f.module_name) +
         "!" + (f.func_name.empty() ? "<wasm function " + std::to_string(f.func_index) + ">"
                                    : f.func_name);
  }
  return s;
}

namespace {
// Shortest round-trip decimal without exponent, like Rust's Display (what
// `wasmtime run --invoke` prints): 1.5, 1, -0, NaN, inf.
template <class F>
std::string FormatFloat(F v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  // Shortest round-trip digits, then laid out without an exponent.
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, r.ptr);  // "-1.2345e+30"
  std::string out;
  size_t i = 0;
  if (sci[0] == '-') {
    out = "-";
    i = 1;
  }
  size_t e_pos = sci.find('e');
  std::string digits;
  for (size_t k = i; k < e_pos; ++k)
    if (sci[k] != '.') digits.push_back(sci[k]);
  int exp = std::stoi(sci.substr(e_pos + 1));
  if (exp >= 0) {
    size_t int_len = static_cast<size_t>(exp) + 1;
    if (digits.size() <= int_len) {
      out += digits + std::string(int_len - digits.size(), '0');
    } else {
      out += digits.substr(0, int_len) + "." + digits.substr(int_len);
    }
  } else {
    out += "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  }
  return out;
}
}  // namespace

std::string FormatValue(const TypedValue& v) {
  switch (v.type) {
    case ValType::kI32: return std::to_string(static_cast<int32_t>(v.value.i32()));
    case ValType::kI64: return std::to_string(static_cast<int64_t>(v.value.i64()));
    case ValType::kF32: return FormatFloat(v.value.f32());
    case ValType::kF64: return FormatFloat(v.value.f64());
    case ValType::kFuncRef: return v.value.is_null_ref() ? "null" : "<funcref>";
    case ValType::kExternRef: return v.value.is_null_ref() ? "null" : "<externref>";
    case ValType::kV128: return "<v128>";
  }
  return "?";
}

}  // namespace weft::wasm
