// Decoding and validation of one function body (spec 3.3 / appendix "Validation
// Algorithm"), in a single pass over the bytes.
//
// Two kinds of error are told apart, as the spec testsuite does:
//  - malformed (syntax: bad opcode, LEB128, truncated body, missing `end`): returned
//    as the Result's error; decoding stops.
//  - invalid (typing: "type mismatch", "unknown local 3", ...): the FIRST one is stored in
//    *invalid and the body is still parsed to its end for syntax only, so that a
//    malformed error later in the module wins over an invalid one (the spec's
//    reference interpreter decodes the whole module before validating it).
// If *invalid is already set on entry, the body is only parsed for syntax.
//
// Not thread-safe per instance; create one per body (cheap) or reuse sequentially.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "base/result.h"
#include "wasm/decode/reader.h"
#include "weft/wasm/module.h"

namespace weft::wasm {

// Working storage of the body validator, reused from one body to the next so that a
// module's functions are validated without allocating per function. Owned by the module
// decoder; used by one body at a time (not thread-safe).
class BodyScratch {
 public:
  BodyScratch();
  ~BodyScratch();
  BodyScratch(const BodyScratch&) = delete;
  BodyScratch& operator=(const BodyScratch&) = delete;
  struct Buffers;  // defined in function_validator.cc
  Buffers& buffers() { return *buffers_; }

 private:
  std::unique_ptr<Buffers> buffers_;
};

struct BodyContext {
  const Module* module = nullptr;        // sections decoded so far (types, funcs, tables,
                                         // memories, globals, elems count, data_count)
  uint32_t num_elem_segments = 0;        // from the element section
  const std::vector<bool>* declared_refs = nullptr;  // C.refs, indexed by func index
  const DecodeOptions* options = nullptr;
  BodyScratch* scratch = nullptr;        // optional: without one, each body allocates its own
  // Out: set when the body uses memory.init or data.drop (these need the data count
  // section when the module has data segments; checked by the module decoder).
  mutable bool uses_data_index = false;
};

// Parses a body's `locals` vector, from `r` at its start; fills f->locals, f->num_locals and
// f->body_offset (where the instructions start).
Result<void, Diag> DecodeLocals(Reader& r, const DecodeOptions& options, Function* f);

// Parses `locals` then instructions up to and including the function's final `end`.
// `r` is positioned at the start of the locals vector. On success fills
// f->locals / f->num_locals and leaves `r` just after the final `end`.
// `func_type` is the function's type (nullptr when its type index is invalid: then the
// body is parsed for syntax only).
Result<void, Diag> DecodeFunctionBody(Reader& r, const BodyContext& ctx, const FuncType* func_type,
                                      Function* f, std::optional<Diag>* invalid);

// Parses instructions for syntax only, from `r` up to and including the `end` that closes
// an implicit outer block. Used by constant expressions that contain a non-constant
// instruction (already reported as invalid by the caller).
Result<void, Diag> SkipInstructions(Reader& r, const BodyContext& ctx);

// Reads a value type byte: "malformed value type"; v128 -> "SIMD (v128) not supported yet".
Result<ValType, Diag> ReadValType(Reader& r);
// Reads a reference type byte (0x70 / 0x6F): "malformed reference type".
Result<ValType, Diag> ReadRefType(Reader& r);

}  // namespace weft::wasm
