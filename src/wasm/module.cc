#include "weft/wasm/module.h"

namespace weft::wasm {

std::string Module::FuncName(uint32_t func_index) const {
  auto it = func_names.find(func_index);
  return it == func_names.end() ? std::string() : it->second;
}

}  // namespace weft::wasm
