// Core WebAssembly types shared by the decoder, the runtime and embedders.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace weft::wasm {

// Binary encodings of value types (spec 5.3.1).
enum class ValType : uint8_t {
  kI32 = 0x7F,
  kI64 = 0x7E,
  kF32 = 0x7D,
  kF64 = 0x7C,
  kV128 = 0x7B,  // decoded only to reject it with "not supported yet"
  kFuncRef = 0x70,
  kExternRef = 0x6F,
};

inline bool IsRefType(ValType t) { return t == ValType::kFuncRef || t == ValType::kExternRef; }
const char* ValTypeName(ValType t);  // "i32", "funcref", ...

struct FuncType {
  std::vector<ValType> params;
  std::vector<ValType> results;
  bool operator==(const FuncType&) const = default;
};

struct Limits {
  uint64_t min = 0;
  std::optional<uint64_t> max;
};

struct TableType {
  ValType elem = ValType::kFuncRef;
  Limits limits;
};

struct MemoryType {
  Limits limits;  // in 64 KiB pages
};

struct GlobalType {
  ValType type = ValType::kI32;
  bool is_mutable = false;
};

enum class ExternKind : uint8_t { kFunc = 0, kTable = 1, kMemory = 2, kGlobal = 3 };
const char* ExternKindName(ExternKind k);  // "func", "table", "memory", "global"

// An untyped 64-bit value slot. The type is known statically from validation, so the
// interpreter never stores a tag. References are pointer-sized: a funcref is a
// `FuncInst*` (nullptr = ref.null func); an externref is an embedder-chosen uintptr_t
// (0 = ref.null extern).
struct Value {
  uint64_t bits = 0;

  static Value I32(uint32_t v) { return Value{v}; }
  static Value I64(uint64_t v) { return Value{v}; }
  static Value F32(float v) { uint32_t b; std::memcpy(&b, &v, 4); return Value{b}; }
  static Value F64(double v) { uint64_t b; std::memcpy(&b, &v, 8); return Value{b}; }
  static Value F32Bits(uint32_t b) { return Value{b}; }
  static Value F64Bits(uint64_t b) { return Value{b}; }
  static Value Ref(const void* p) { return Value{reinterpret_cast<uintptr_t>(p)}; }
  static Value ExternRef(uintptr_t r) { return Value{r}; }

  uint32_t i32() const { return static_cast<uint32_t>(bits); }
  uint64_t i64() const { return bits; }
  float f32() const { float f; uint32_t b = i32(); std::memcpy(&f, &b, 4); return f; }
  double f64() const { double d; std::memcpy(&d, &bits, 8); return d; }
  void* ref() const { return reinterpret_cast<void*>(static_cast<uintptr_t>(bits)); }
  bool is_null_ref() const { return bits == 0; }
};
static_assert(sizeof(Value) == 8);

// A value with its type, for API boundaries (invoke arguments, printing results).
struct TypedValue {
  ValType type;
  Value value;
};
std::string FormatValue(const TypedValue& v);  // "42: i32", like wasmtime --invoke prints "42"

// ---- Traps -------------------------------------------------------------------------
enum class TrapKind : uint8_t {
#define WEFT_TRAP(name, text) name,
#include "weft/wasm/trap_kinds.def"
#undef WEFT_TRAP
};
const char* TrapKindMessage(TrapKind k);  // the spec wording, e.g. "integer divide by zero"

// One wasm frame of a backtrace, innermost first.
struct TrapFrame {
  std::string module_name;   // from the name section or the registered name; may be empty
  uint32_t func_index = 0;   // in the module's function index space
  std::string func_name;     // from the name section; empty when absent
  uint32_t code_offset = 0;  // byte offset in the module of the instruction, 0 if unknown
};

// A trap is a value: returned to the embedder, never thrown, never a signal that escapes.
struct Trap {
  TrapKind kind = TrapKind::kUnreachable;
  std::string detail;  // extra words, e.g. "fd_write: iovec out of bounds"
  int32_t exit_code = 0;  // only for kExit
  std::vector<TrapFrame> backtrace;

  static Trap Make(TrapKind k, std::string detail = {}) { return Trap{k, std::move(detail), 0, {}}; }
  static Trap Exit(int32_t code) { return Trap{TrapKind::kExit, {}, code, {}}; }
  // "integer divide by zero" or "host trap: fd_write: iovec out of bounds".
  std::string Message() const;
  // Message plus "wasm backtrace:" lines, in the style of wasmtime.
  std::string ToString() const;
};

// A decode/validation/link diagnostic: where and why.
struct Diag {
  uint64_t offset = 0;  // byte offset in the module binary (0 when not applicable)
  std::string message;  // spec assert_malformed / assert_invalid wording where one exists
  std::string ToString() const;  // "offset 0x1a: unexpected end"
};

}  // namespace weft::wasm
