// Decoding a module that an earlier DecodeModule of the very same bytes accepted: a code
// cache entry (weft/wasm/code_cache.h) holds those bytes and what validating the function
// bodies found, so the bodies' instructions are not validated a second time. Not public.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "weft/wasm/module.h"

namespace weft::wasm {

// DecodeModule, except that the code section's bodies are skipped after their locals:
// distinct_consts[i] becomes functions[i].distinct_consts (one per defined function,
// else the decode fails), and the module carries `translated`. Every other section is
// decoded and validated as usual.
Result<std::shared_ptr<const Module>, Diag> DecodeValidatedModule(
    std::vector<uint8_t>&& bytes, const DecodeOptions& options,
    std::span<const uint32_t> distinct_consts, std::shared_ptr<const TranslatedCode> translated);

}  // namespace weft::wasm
