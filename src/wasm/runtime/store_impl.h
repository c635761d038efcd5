// Store internals shared by the runtime, the compiler and the interpreter. Not public.
// Everything here is owned by one Store and used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "wasm/compile/code_locations.h"
#include "wasm/jit/jit.h"
#include "weft/wasm/runtime.h"

namespace weft::wasm {

enum class IOp : uint16_t;

// One 32-bit word of the interpreter's internal code. An instruction is its handler word
// followed by operand words: frame-slot indices, indices into the instance (function,
// global, table, data and element segment), 32-bit immediates, signed branch offsets in
// words from the instruction's start, and 64-bit immediates as two words (Imm64).
using CodeWord = uint32_t;

// The handler word of `op`: the distance of its label from the first op's, so that
// dispatch is one add and one indirect jump (handlers = interp::HandlerTable()).
inline CodeWord HandlerWord(const int32_t* handlers, IOp op) {
  return static_cast<CodeWord>(handlers[static_cast<size_t>(op)]);
}
// A branch from the instruction at word `from` to word `to`.
inline CodeWord BranchWord(size_t to, size_t from) {
  return static_cast<CodeWord>(static_cast<int32_t>(static_cast<int64_t>(to) - static_cast<int64_t>(from)));
}
inline int32_t BranchOffset(CodeWord w) { return static_cast<int32_t>(w); }
inline uint64_t Imm64(const CodeWord* at) { return at[0] | static_cast<uint64_t>(at[1]) << 32; }

// A code word holding Instance::type_ids[type_index].
struct TypeIdWord {
  uint32_t word;
  uint32_t type_index;
};

// A function translated to the interpreter's internal code (see interp/README.md).
struct CompiledFunc {
  // [handler][operands...] per instruction: own_code, or a code cache entry's words when
  // they fit this store as they are (the instance's TranslatedCode keeps them mapped).
  std::span<const CodeWord> code;
  uint32_t num_params = 0;
  uint32_t num_results = 0;
  uint32_t num_locals = 0;     // params + declared locals: the first operand slot
  uint32_t frame_slots = 0;    // locals + constants + the deepest operand stack
  // Frame layout: [params][locals][consts][operands]; consts are copied in on entry.
  std::span<const uint64_t> consts;  // own_consts, or a code cache entry's
  std::vector<CodeWord> own_code;
  std::vector<uint64_t> own_consts;
  // What ties the code to this store, for a code cache (weft/wasm/code_cache.h): the
  // code words that hold a store type id (call_indirect's expected type), with the module
  // type index each stands for; and whether the code embeds an address of this process
  // (ref.func's FuncInst), which no other process can use.
  std::vector<TypeIdWord> type_id_words;
  bool embeds_address = false;
  // The module byte offset of each instruction, for backtraces. Built on the first trap
  // that needs it, by translating the function again (CodeOffsetAt): recording them on
  // every translation was ~6% of the instructions a short run executes (issue 5).
  std::unique_ptr<CodeLocations> locations;
  // Native code (jit/), when the JIT translated this function: native_at[i] is the offset
  // in `native` of the instruction starting at code[i] (only instruction starts are valid).
  const uint8_t* native = nullptr;
  uint32_t native_size = 0;  // bytes of machine code
  std::vector<uint32_t> native_at;
  // Calls and loop back-edges taken in the interpreter; at jit::HotThreshold() the
  // function is translated (most functions of a short program never are).
  uint32_t hotness = 0;
};

// Internal code that a code cache read for a module (weft/wasm/code_cache.h), in store-
// independent form: CompileFunction copies a function's entry instead of translating it.
struct TranslatedFunc {
  uint32_t num_params = 0;
  uint32_t num_results = 0;
  uint32_t num_locals = 0;
  uint32_t frame_slots = 0;
  std::span<const uint64_t> consts;
  std::span<const CodeWord> code;  // its type_id_words hold module type indices
  std::span<const uint32_t> type_id_words;  // (word, module type index) pairs
};
struct TranslatedCode {
  TranslatedCode() = default;
  TranslatedCode(const TranslatedCode&) = delete;
  TranslatedCode& operator=(const TranslatedCode&) = delete;
  ~TranslatedCode();  // unmaps the entry (wasm/cache/code_cache.cc)

  // The cache entry, mapped read-only; the spans below point into it.
  const uint8_t* mapping = nullptr;
  size_t mapping_bytes = 0;
  // Per imported function, whether it was a host function when the code was translated:
  // a call to an import that only forwards to a host function is translated as a direct
  // call (compiler.cc, ForwardOf), so the code fits only instances linked the same way.
  std::vector<bool> import_is_host;
  std::span<const uint32_t> distinct_consts;  // Function::distinct_consts, per function
  std::vector<std::optional<TranslatedFunc>> funcs;  // by defined-function index

  // True when `inst`'s imports are linked as they were at translation (code_cache.cc).
  bool FitsLinking(const Instance& inst) const;
};

namespace jit {
struct JitState;
}

// One activation record of the explicit call stack: where to resume the caller.
struct Frame {
  const CodeWord* ret_pc;  // in the caller's code
  Value* fp;               // caller's frame
  FuncInst* func;          // the caller
};
static_assert(sizeof(Frame) <= kExecFrameBytes, "ExecStackBytes() sizes frames from this");

// The interpreter's stacks, allocated on first call and reused by every call (and by
// re-entrant calls from host functions, which continue above the current frame).
// Both live in one region of ExecStackBytes(max_call_depth): the embedder's
// (Store::UseExecStacks) or a mapping of the store's own.
struct ExecState {
  Value* slots = nullptr;      // the slot stack, after the frames
  size_t num_slots = 0;
  Value* sp_top = nullptr;     // first free slot for a new activation
  Frame* frames = nullptr;     // max_call_depth + 1, never reallocated while running
  void* provided = nullptr;    // Store::UseExecStacks's memory, until the first call
  void* mapping = nullptr;     // the region, when the store mapped it (unmapped with it)
  size_t mapping_bytes = 0;
  uint32_t depth = 0;          // frames in use
  uint32_t activations = 0;    // nested Execute() calls (host re-entry)
  // The native activation whose host call is in progress, while its Frames are not yet
  // written (jit.h, JitState::fsp): a re-entrant Execute() writes them first.
  jit::JitState* native_host_caller = nullptr;
};

struct Store::Objects {
  std::vector<std::unique_ptr<FuncInst>> funcs;
  std::vector<std::unique_ptr<MemInst>> memories;
  std::vector<std::unique_ptr<TableInst>> tables;
  std::vector<std::unique_ptr<GlobalInst>> globals;
  std::vector<std::unique_ptr<Instance>> instances;
  std::vector<std::unique_ptr<CompiledFunc>> compiled;
  std::vector<std::unique_ptr<FuncType>> host_types;
  std::unordered_map<std::string, uint32_t> type_ids;
  ExecState exec;
  std::unique_ptr<jit::CodeArena> jit_arena;  // created on the first JIT compile
};

// Translates a wasm function (validated) to internal code; the result is owned by the
// store and cached in func->compiled.
CompiledFunc* CompileFunction(Store& store, FuncInst* func);
// The module byte offset of the instruction at `code_index` of compiled `func`.
uint32_t CodeOffsetAt(FuncInst* func, size_t code_index);
// Translates an already compiled function to native code (no-op when the JIT is off or
// the function already has it; it stays interpreted if translation fails).
void CompileNativeCode(Store& store, FuncInst* func);

namespace interp {
// Runs `func` (a wasm function) with its arguments already in fp[0..params); on success
// the results are in fp[0..results). fp must lie inside store's slot stack.
std::optional<Trap> Execute(Store& store, FuncInst* func, Value* fp);
// Every internal op's handler, as its label's offset from the first op's, indexed by IOp.
const int32_t* HandlerTable();
// Calls host function `callee` for wasm code of `caller` (both tiers): arguments in
// nfp[0..params), results written to nfp[0..results). `depth` is the frame count with the
// caller's Frame pushed; a re-entrant call from the host starts at `sp_top`, above the
// caller's slots.
// (Inline: it is the whole cost of a cheap host call beyond the host's own work.)
// The std::function form's part of it (arguments copied out of nfp[] first).
std::optional<Trap> CallHostFunctionCopyingArgs(Caller& caller, FuncInst* callee, Value* nfp);
inline std::optional<Trap> CallHostFunction(Store& store, Instance* caller, FuncInst* callee,
                                            Value* nfp, uint32_t depth, Value* sp_top) {
  // Backtraces and re-entrant calls from the host see the caller's frames and start
  // above its slots.
  ExecState& st = store.objects().exec;
  st.depth = depth;
  Value* saved_top = st.sp_top;
  st.sp_top = sp_top;
  Caller c{store, caller, callee->user_data};
  // The fast form reads its arguments from nfp[] and writes its results over them.
  std::optional<Trap> trap = callee->host_ptr != nullptr
                                 ? callee->host_ptr(c, nfp)
                                 : CallHostFunctionCopyingArgs(c, callee, nfp);
  st.sp_top = saved_top;
  return trap;
}
}  // namespace interp

enum class IOp : uint16_t {
#define IOP(Name) k##Name,
#include "wasm/interp/iops.def"
#undef IOP
  kCount
};

}  // namespace weft::wasm
