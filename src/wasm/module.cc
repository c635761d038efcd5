#include "weft/wasm/module.h"

#include <algorithm>

namespace weft::wasm {

std::string_view Module::FuncName(uint32_t func_index) const {
  auto it = std::lower_bound(
      func_names.begin(), func_names.end(), func_index,
      [](const FuncNameEntry& e, uint32_t index) { return e.func_index < index; });
  if (it == func_names.end() || it->func_index != func_index) return {};
  return {reinterpret_cast<const char*>(bytes.data()) + it->name_offset, it->name_size};
}

}  // namespace weft::wasm
