// The decoded and validated form of a module binary. Produced only by DecodeModule(),
// which validates everything (module structure and every function body), so the
// compiler and the runtime may trust it. Immutable after decoding; share it freely
// between threads and stores through shared_ptr<const Module>.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "weft/wasm/types.h"

namespace weft::wasm {

// A constant expression (Wasm 2.0: exactly one instruction then `end`).
struct ConstExpr {
  enum class Kind : uint8_t { kI32, kI64, kF32, kF64, kRefNull, kRefFunc, kGlobalGet };
  Kind kind = Kind::kI32;
  ValType type = ValType::kI32;  // the type the expression produces
  uint64_t bits = 0;             // kI32/kI64/kF32/kF64: the raw value bits
  uint32_t index = 0;            // kRefFunc: function index; kGlobalGet: global index
};

struct Import {
  std::string module;
  std::string name;
  ExternKind kind = ExternKind::kFunc;
  uint32_t type_index = 0;  // kFunc: index into Module::types
  TableType table;          // kTable
  MemoryType memory;        // kMemory
  GlobalType global;        // kGlobal
};

struct Export {
  std::string name;
  ExternKind kind = ExternKind::kFunc;
  uint32_t index = 0;  // in the index space of `kind` (imports first)
};

// A run of locals of one type, as encoded: `count` locals of `type`.
struct LocalRun {
  uint32_t count = 0;
  ValType type = ValType::kI32;
};

// A function defined by the module (not imported).
struct Function {
  uint32_t type_index = 0;
  std::vector<LocalRun> locals;  // not including params
  uint32_t num_locals = 0;       // sum of locals[i].count (validated to be small)
  uint32_t body_offset = 0;      // offset in Module::bytes of the first instruction
  uint32_t body_size = 0;        // bytes up to and including the final `end`
  // Distinct constant values (by bit pattern) in the body, counted by the validator up to
  // kMaxConstSlots: the compiler reserves that many constant slots before it translates
  // the body, so it translates it once (compile/compiler.cc).
  uint32_t distinct_consts = 0;
  static constexpr uint32_t kMaxConstSlots = 64;
};

struct Global {
  GlobalType type;
  ConstExpr init;
};

enum class SegmentMode : uint8_t { kActive, kPassive, kDeclarative };

struct ElemSegment {
  SegmentMode mode = SegmentMode::kActive;
  uint32_t table_index = 0;   // kActive
  ConstExpr offset;           // kActive (i32)
  ValType type = ValType::kFuncRef;
  std::vector<ConstExpr> init;  // one expression per element (function indices become kRefFunc)
};

struct DataSegment {
  SegmentMode mode = SegmentMode::kActive;  // never kDeclarative
  uint32_t memory_index = 0;                // kActive
  ConstExpr offset;                         // kActive (i32)
  uint32_t data_offset = 0;                 // offset in Module::bytes
  uint32_t data_size = 0;
};

// One entry of the name section's function names.
struct FuncNameEntry {
  uint32_t func_index = 0;
  uint32_t name_offset = 0;  // offset in Module::bytes of the UTF-8 name
  uint32_t name_size = 0;
};

struct CustomSection {
  std::string name;
  uint32_t data_offset = 0;  // offset in Module::bytes
  uint32_t data_size = 0;
};

struct TranslatedCode;  // the runtime's; opaque here

struct Module {
  std::vector<uint8_t> bytes;  // the whole binary; offsets above point into it

  std::vector<FuncType> types;
  std::vector<Import> imports;
  // Index spaces: imported entities come first, in import order.
  uint32_t num_imported_funcs = 0;
  uint32_t num_imported_tables = 0;
  uint32_t num_imported_memories = 0;
  uint32_t num_imported_globals = 0;
  std::vector<uint32_t> func_types;  // type index of EVERY function (imports first)
  std::vector<Function> functions;   // defined functions only: functions[i] is func index
                                     // num_imported_funcs + i
  std::vector<TableType> tables;     // EVERY table (imports first)
  std::vector<MemoryType> memories;  // EVERY memory (imports first)
  std::vector<GlobalType> global_types;  // EVERY global (imports first)
  std::vector<Global> globals;           // defined globals only
  std::vector<Export> exports;
  std::optional<uint32_t> start;
  std::vector<ElemSegment> elems;
  std::vector<DataSegment> datas;
  std::optional<uint32_t> data_count;
  std::vector<CustomSection> customs;

  // From the "name" custom section (malformed name sections are ignored, as the spec allows).
  std::string name;
  // Function names, sorted by func_index, one entry per index; FuncName reads them. Each
  // is a view of `bytes` rather than a string of its own: one allocation for the whole
  // map instead of two per name (start-up, issue 5).
  std::vector<FuncNameEntry> func_names;

  const FuncType& FuncTypeOf(uint32_t func_index) const { return types[func_types[func_index]]; }
  const Function& DefinedFunction(uint32_t func_index) const {
    return functions[func_index - num_imported_funcs];
  }
  std::span<const uint8_t> Body(const Function& f) const {
    return {bytes.data() + f.body_offset, f.body_size};
  }
  // The name for backtraces: the name section's, else "".
  std::string_view FuncName(uint32_t func_index) const;

  // Functions translated by an earlier run, when a CodeCache (code_cache.h) decoded the
  // module; their bodies were validated then and are not validated again.
  std::shared_ptr<const TranslatedCode> translated;
};

// Feature switches. Everything in Wasm 2.0 except SIMD is on and cannot be turned off yet.
struct DecodeOptions {
  uint32_t max_function_locals = 50000;  // like V8/wasmtime: a guard against huge allocations
  uint32_t max_nesting_depth = 10000;    // control-stack depth per function
  // Threads that validate the function bodies of a code section of at least
  // parallel_code_bytes at once: 0 = one per hardware thread (at most 8), 1 = never start
  // a thread. Results, errors included, are the same as with one thread. (Starting a
  // thread costs tens of microseconds; a MiB of code takes about ten milliseconds.)
  uint32_t decode_threads = 0;
  uint64_t parallel_code_bytes = uint64_t{1} << 20;
};

// Decodes AND validates. On failure, Diag names the byte offset and the reason, using
// the spec's wording ("unexpected end", "type mismatch", "unknown function", ...).
// SIMD and exception handling are rejected with "... not supported yet".
Result<std::shared_ptr<const Module>, Diag> DecodeModule(std::span<const uint8_t> bytes,
                                                         const DecodeOptions& options = {});
// The same, taking ownership of `bytes` (they become Module::bytes) instead of copying
// them: a large module is held once, not twice, while it is decoded.
Result<std::shared_ptr<const Module>, Diag> DecodeModule(std::vector<uint8_t>&& bytes,
                                                         const DecodeOptions& options = {});

}  // namespace weft::wasm
