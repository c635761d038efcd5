// wasi_snapshot_preview1, engine-agnostic: the error type of the function bodies, the
// guest-memory view they receive (Call), and the list of every function (generated from
// src/wasi/preview1.def) with a generic entry point the binding and the tests use.
//
// Boundary rules (as wasmtime's p1.rs): an out-of-bounds, overflowing or misaligned
// guest pointer is a trap (TrapKind::kHost, message "<function>: ..."); invalid flags or
// enum values are EINVAL; invalid UTF-8 in a path is EILSEQ; host errors are mapped.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "base/result.h"
#include "weft/wasi/ctx.h"
#include "weft/wasi/types.h"
#include "weft/wasm/types.h"

namespace weft::wasi {

// What a WASI function body fails with: an errno returned to the guest, or a trap that
// stops it (a bad guest pointer, proc_exit).
class Error {
 public:
  // User-provided, so that value-initialisation (Result<void> holds an `Error error_{}`)
  // does not zero the whole optional<Trap> on every successful call.
  Error() {}  // NOLINT(modernize-use-equals-default)
  Error(Errno e) : errno_(e) {}  // NOLINT: implicit, so WEFT_TRY on ErrnoOr works
  Error(wasm::Trap trap) : trap_(std::move(trap)) {}  // NOLINT
  bool is_trap() const { return trap_.has_value(); }
  Errno errno_value() const { return errno_; }
  wasm::Trap& trap() { return *trap_; }
  const wasm::Trap& trap() const { return *trap_; }

 private:
  Errno errno_ = Errno::kSuccess;
  std::optional<wasm::Trap> trap_;
};

template <class T>
using Result = weft::Result<T, Error>;

// One WASI call's view of its caller: the context and the guest's linear memory
// [base, base + size). Every guest pointer is checked against it before use.
class Call {
 public:
  Call(Ctx& ctx, uint8_t* mem_base, uint64_t mem_size, const char* function)
      : ctx_(ctx), base_(mem_base), size_(mem_size), function_(function) {}

  Ctx& ctx() const { return ctx_; }
  wasi::Table& table() const { return ctx_.table(); }
  const char* function() const { return function_; }
  uint64_t memory_size() const { return size_; }

  // [ptr, ptr + len) inside memory and `ptr` a multiple of `align` (a power of two),
  // else a trap. Inline: every host call checks a few pointers.
  Result<uint8_t*> Bytes(uint32_t ptr, uint64_t len, uint32_t align = 1) const {
    if (Fits(ptr, len, align)) [[likely]] return base_ + ptr;
    return Err(BadPointer(ptr, len, align));
  }
  // The check of Bytes() alone, for hot paths that then use At(ptr) and answer a
  // failure with Err(BadPointer(ptr, len, align)).
  bool Fits(uint32_t ptr, uint64_t len, uint32_t align = 1) const {
    return (ptr & (align - 1)) == 0 && ptr <= size_ && len <= size_ - ptr;
  }
  uint8_t* At(uint32_t ptr) const { return base_ + ptr; }
  // `count` elements of `elem_size` bytes (overflow-checked).
  Result<uint8_t*> Array(uint32_t ptr, uint64_t count, uint64_t elem_size, uint32_t align) const {
    // count and elem_size are both < 2^32, so the product cannot overflow 64 bits.
    return Bytes(ptr, count * elem_size, align);
  }
  // Reads a path/string argument: bounds (trap) then UTF-8 (EILSEQ).
  Result<std::string_view> String(uint32_t ptr, uint32_t len) const;

  // Typed little-endian loads/stores at naturally aligned addresses.
  Result<uint32_t> LoadU32(uint32_t ptr) const {
    WEFT_TRY_ASSIGN(uint8_t* p, Bytes(ptr, 4, 4));
    uint32_t v;
    std::memcpy(&v, p, 4);  // the guest ABI is little-endian, as the host (layout.h)
    return v;
  }
  Result<void> StoreU32(uint32_t ptr, uint32_t value) const {
    WEFT_TRY_ASSIGN(uint8_t* p, Bytes(ptr, 4, 4));
    std::memcpy(p, &value, 4);
    return {};
  }
  Result<void> StoreU64(uint32_t ptr, uint64_t value) const {
    WEFT_TRY_ASSIGN(uint8_t* p, Bytes(ptr, 8, 8));
    std::memcpy(p, &value, 8);
    return {};
  }

  wasm::Trap MakeTrap(std::string detail) const;
  // The trap for a pointer that failed Bytes() (out of line: the cold path).
  wasm::Trap BadPointer(uint32_t ptr, uint64_t len, uint32_t align) const;

  // Extra text for the trace line ("nwritten=6"), only collected while tracing.
  bool tracing() const { return ctx_.tracing(); }
  void Note(std::string text) {
    if (!note_.empty()) note_ += ", ";
    note_ += std::move(text);
  }
  const std::string& note() const { return note_; }

 private:
  Ctx& ctx_;
  uint8_t* base_;
  uint64_t size_;
  const char* function_;
  std::string note_;
};

// One row of preview1.def.
struct Preview1Function {
  const char* name;
  // One letter per wasm parameter: f = fd, p = guest pointer, u = u32 value,
  // x = u32 flags, U = u64 value (an i64 parameter), X = u64 rights. All others are i32.
  const char* params;
  bool returns_errno;  // false only for proc_exit, which has no result
  // Runs the body; args[i] holds parameter i zero-extended. Returns the errno value for
  // the guest, or the trap.
  Result<uint32_t> (*invoke)(Call& call, const uint64_t* args);
};

// Every function of wasi_snapshot_preview1, in preview1.def order.
std::span<const Preview1Function> Preview1Functions();
const Preview1Function* FindPreview1Function(std::string_view name);

// Invokes `fn` with tracing (when the context traces): the one entry point bindings use.
Result<uint32_t> InvokePreview1Traced(const Preview1Function& fn, Call& call,
                                      const uint64_t* args);
inline Result<uint32_t> InvokePreview1(const Preview1Function& fn, Call& call,
                                       const uint64_t* args) {
  if (call.tracing()) [[unlikely]] return InvokePreview1Traced(fn, call, args);
  return fn.invoke(call, args);
}

}  // namespace weft::wasi
