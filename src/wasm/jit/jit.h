// The baseline JIT: translates a function's internal code (compile/compiler.cc) into
// x86-64 machine code that works on the same frame slots and the same explicit frame
// stack as the interpreter. See jit/README.md.
//
// The interpreter stays in charge: it enters native code at function entry, at loop
// heads and at call continuations, and native code leaves ("exits") back to the
// interpreter at an instruction it does not handle itself (a host call, memory.grow, a
// table op, anything about to trap), which the interpreter then executes. So every
// instruction boundary is a point where either tier can take over.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "weft/wasm/runtime.h"

namespace weft::wasm {
struct CompiledFunc;
struct Frame;
}  // namespace weft::wasm

namespace weft::wasm::jit {

class CodeArena;

// Shared between the interpreter and native code for one activation of the interpreter.
// Native code addresses the fields by offset (x64_jit.cc): plain data only.
struct JitState {
  // In and out: the frame and the frame-stack top. Native code pushes no Frame for its
  // own calls: the machine stack holds them (a return address per call), and they are
  // written to the frame stack (CodeArena::MaterializeFrames) when the interpreter needs
  // them: at an exit, and when a host function called from native code re-enters wasm.
  Value* fp = nullptr;
  Frame* fsp = nullptr;
  // In: the current instance's memory 0 and limits.
  uint8_t* mem = nullptr;
  uint64_t mem_size = 0;
  const std::atomic<bool>* interrupt = nullptr;
  Value* slots_end = nullptr;
  // Native wasm->wasm calls recurse on the machine stack (16 bytes a level); below this
  // address a call exits instead, and the interpreter makes it from its own frame. It
  // also bounds the native call depth by the Frames left (see dispatch.cc).
  const void* stack_limit = nullptr;
  // For host calls made from native code: the store, the base of its frame stack (to sync
  // ExecState::depth), and where a trap returned by the host goes (the interpreter
  // raises it after the exit that follows).
  Store* store = nullptr;
  Frame* frames = nullptr;
  std::optional<Trap>* host_trap = nullptr;
  // Set by native code just before it calls a host function: the machine stack pointer
  // in the calling function (fp then holds its frame), so that a re-entrant call can
  // write the Frames of the native calls below it (MaterializeHostCaller).
  const void* host_rsp = nullptr;
  // The arena running this activation (the SIGSEGV handler finds fault sites through it)
  // and the enclosing activation's state on this thread.
  CodeArena* arena = nullptr;
  JitState* outer = nullptr;
  // Set by Enter(): where an exit unwinds the native stack to, and the shared exit path.
  void* entry_rsp = nullptr;
  const void* exit_path = nullptr;
  // Out, after an exit: the instruction the interpreter runs next, its function, and the
  // accumulator value that instruction may read.
  const uint32_t* exit_pc = nullptr;  // a CodeWord*
  FuncInst* exit_func = nullptr;
  uint64_t exit_acc = 0;
};

// Machine stack native calls may use below the interpreter's frame before they hand a
// call back to the interpreter (which re-enters native code from its own frame).
constexpr size_t kNativeStackBudget = 256 * 1024;

enum class EnterResult : uint64_t {
  kReturned = 0,  // the entered function returned (results in fp[0..])
  kExited = 1,    // native code stopped at exit_pc; the interpreter continues there
};

// Whether native code can be generated here (x86-64 Linux) and is wanted: the
// environment variable WEFT_JIT=0 turns it off (the interpreter then runs everything).
bool Enabled();
// Calls plus loop back-edges a function takes in the interpreter before it is
// translated: 100, or WEFT_JIT_THRESHOLD (0 = translate every function when it is first
// compiled, which the spec tests use to run everything native).
uint32_t HotThreshold();

// Executable memory owned by one Store, plus the entry trampoline.
class CodeArena {
 public:
  CodeArena();
  ~CodeArena();
  CodeArena(const CodeArena&) = delete;
  CodeArena& operator=(const CodeArena&) = delete;
  // Copies `code` into executable memory; returns its address, or nullptr when out of
  // address space (the function then stays interpreted).
  uint8_t* Install(const std::vector<uint8_t>& code);
  // Runs native code at `target` with the registers loaded from `state`.
  EnterResult Enter(JitState* state, const void* target);
  bool ready() const { return enter_ != nullptr; }

 private:
  struct Chunk {
    uint8_t* base;
    size_t size;
    size_t used;
  };
  std::vector<Chunk> chunks_;
  using EnterFn = uint64_t (*)(JitState*, const void*);
  EnterFn enter_ = nullptr;
  const void* exit_path_ = nullptr;
  // Where the function Enter() entered returns to: the end of a MaterializeFrames walk.
  const void* back_ = nullptr;

 public:
  // Memory accesses without an inline bounds check (guard mode): where each one is, and
  // the exit stub a fault there resumes at. Read by the SIGSEGV handler on the thread
  // running this arena's code; written only by that same thread while no native code of
  // it runs (compilation happens in the interpreter).
  struct FaultSite {
    uint32_t offset;  // of the faulting instruction, from the function's code start
    uint32_t stub;    // offset of its exit stub
  };
  // A call made by native code (to wasm or to a host function): the Frame the
  // interpreter would have pushed for it, found from the call's return address.
  struct CallSite {
    uint32_t ret_offset;   // of the return address, from the function's code start
    uint32_t callee_fp;    // the callee's frame starts this many slots above the caller's
    const uint32_t* ret_pc;  // the interpreter code to continue at (a CodeWord*)
  };
  // Registers a function's installed code, its guarded accesses and its calls.
  void AddCode(const uint8_t* code, size_t size, FuncInst* func, std::vector<FaultSite> faults,
               std::vector<CallSite> calls);
  // The exit stub for a fault at `ip`, or nullptr when `ip` is not a guarded access.
  const void* FaultStub(uintptr_t ip) const;
  // Writes the Frames of the native calls on the machine stack to the frame stack at
  // `fsp`, outermost first, and returns the new top. `ret_slot` is the innermost return
  // address (each native level above it is 16 bytes); `fp` is the innermost frame. The
  // walk stops at the entry of the activation `state`.
  Frame* MaterializeFrames(const JitState& state, const void* const* ret_slot, Value* fp,
                           Frame* fsp) const;

 private:
  struct CodeRange {
    uintptr_t start, end;
    FuncInst* func;
    std::vector<FaultSite> faults;  // ascending by offset
    std::vector<CallSite> calls;    // ascending by ret_offset
  };
  const CodeRange* RangeOf(uintptr_t ip) const;
  std::vector<CodeRange> ranges_;  // ascending by start
};

// For a re-entrant call from a host function that native code called (`state` is that
// native activation): writes the Frames of the calls leading to the host call above
// `fsp`, the frame-stack top when native code was entered, and returns the new top.
Frame* MaterializeHostCaller(const JitState& state, Frame* fsp);

// Translates `cf` (the compiled code of wasm function `func`) into native code in
// `arena`. On success sets cf->native and cf->native_at, and func->jit_code, the entry
// that other native code calls. Leaves the function interpreted on failure.
void CompileNative(CodeArena& arena, FuncInst* func, CompiledFunc* cf);

}  // namespace weft::wasm::jit
