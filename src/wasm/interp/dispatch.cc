// The interpreter loop: the only place that executes internal code.
//
// Dispatch is direct-threaded: the first word of every instruction is the address of
// its handler label (GCC computed goto), so dispatch is one indirect jump with no
// decoding and no bounds check on the opcode. Operands are frame-slot indices (see
// compile/compiler.cc); `S(i)` is the slot named by operand word i of the current
// instruction. wasm->wasm calls push a Frame on the store's explicit frame stack and
// continue in this same loop: no native recursion, no allocation.
#include <algorithm>
#include <cstring>
#include <new>

#include "wasm/interp/numeric.h"
#include "wasm/runtime/store_impl.h"

// Frame set-up copies a handful of slots per call: keep those loops inline and scalar,
// instead of letting GCC turn them into memset/memcpy calls or into vector code whose
// alias checks and set-up cost more than the few slots copied.
#pragma GCC optimize("no-tree-loop-distribute-patterns", "no-tree-vectorize")

namespace weft::wasm::interp {
namespace {

// Activations nested through host functions (each costs native stack).
constexpr uint32_t kMaxActivations = 1000;
// Innermost frames kept in a trap's backtrace (a runaway recursion has thousands).
constexpr size_t kMaxBacktrace = 100;

TrapFrame MakeFrame(FuncInst* f, const CodeWord* pc) {
  TrapFrame fr;
  const Instance* inst = f->instance;
  fr.module_name = !inst->name.empty() ? inst->name : inst->module->name;
  fr.func_index = f->func_index;
  fr.func_name = inst->module->FuncName(f->func_index);
  auto* cf = static_cast<const CompiledFunc*>(f->compiled);
  if (cf && pc) fr.code_offset = CodeOffsetAt(f, static_cast<size_t>(pc - cf->code.data()));
  return fr;
}

// Innermost first: the current function, then every frame on the stack (including those
// of outer activations, so a trap under a host function shows the whole chain).
void FillBacktrace(Trap& t, const ExecState& st, FuncInst* func, const CodeWord* pc) {
  t.backtrace.push_back(MakeFrame(func, pc));
  for (uint32_t d = st.depth; d-- > 0 && t.backtrace.size() < kMaxBacktrace;) {
    const Frame& f = st.frames[d];
    if (f.func && !f.func->is_host()) t.backtrace.push_back(MakeFrame(f.func, f.ret_pc - 1));
  }
}

// GCC spills some of the dispatch state in this large function (which values depends on
// the build's profile); pinning the four that every handler uses, and the frame stack
// pointer that every call and return uses, to callee-saved registers keeps them out of
// memory in every build.
// (`register` alone is not C++17: elsewhere both words go.)
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define WEFT_PINNED register
#define WEFT_PIN(reg) asm(reg)
#else
#define WEFT_PINNED
#define WEFT_PIN(reg)
#endif

std::optional<Trap> Run(Store* store_ptr, FuncInst* entry, Value* entry_fp,
                        const int32_t** table_out) {
  // Each handler's offset from the first handler's label: differences of labels are
  // constants, so the table sits in .rodata (a table of addresses needed ~300 relocations,
  // written at every start-up).
  static const int32_t kOffsets[] = {
#define IOP(Name)                                             \
  static_cast<int32_t>(static_cast<const char*>(&&L_##Name) - \
                       static_cast<const char*>(&&L_Unreachable)),
#include "wasm/interp/iops.def"
#undef IOP
  };
  if (table_out) {
    *table_out = kOffsets;
    return std::nullopt;
  }

  Store& store = *store_ptr;
  ExecState& st = store.objects().exec;
  const std::atomic<bool>* interrupt = store.interrupt_flag();
  if (st.native_host_caller) [[unlikely]] {
    // Called back from a host function that native code called: give the frame stack
    // the native calls leading there, so that depth and backtraces count them.
    jit::JitState* caller = st.native_host_caller;
    st.native_host_caller = nullptr;
    st.depth = static_cast<uint32_t>(
        jit::MaterializeHostCaller(*caller, st.frames + st.depth) - st.frames);
  }
  const uint32_t base_depth = st.depth;
  // The frame stack pointer lives in a register; st.depth is synced before anything that
  // reads it (host calls, which may re-enter, and traps).
  Frame* const frames = st.frames;
  Frame* const frames_base = frames + base_depth;
  Frame* const frames_end = frames + store.limits().max_call_depth;
  WEFT_PINNED Frame* fsp WEFT_PIN("r12") = frames_base;
  Value* const slots_end = st.slots + st.num_slots;

  FuncInst* func = entry;
  Instance* inst = func->instance;
  CompiledFunc* cf = CompileFunction(store, func);
  WEFT_PINNED Value* fp WEFT_PIN("r13") = entry_fp;
  WEFT_PINNED const CodeWord* pc WEFT_PIN("rbx") = cf->code.data();
  MemInst* memi = nullptr;
  uint8_t* mem = nullptr;
  uint64_t mem_size = 0;
  TrapKind trap_kind = TrapKind::kUnreachable;
  std::optional<Trap> host_trap;
  FuncInst* callee = nullptr;
  Value* nfp = nullptr;
  const CodeWord* ret = nullptr;
  // The result of the last numeric op or load, kept in a register: the compiler uses the
  // `...A` variants, which read operand a from here, only right after such an instruction.
  WEFT_PINNED uint64_t acc WEFT_PIN("r14") = 0;
  // Native code (jit/): entered where the current function has it, at function entry,
  // loop heads and call continuations; it exits back here at instructions it leaves to us.
  jit::CodeArena* arena = store.objects().jit_arena.get();
  const bool jit_on = jit::Enabled();
  const uint32_t hot_threshold = jit::HotThreshold();
  jit::JitState js;
  js.interrupt = interrupt;
  js.slots_end = slots_end;
  // Native calls use at most kNativeStackBudget of machine stack below this frame.
  const char* const native_stack_base = static_cast<const char*>(__builtin_frame_address(0));
  js.store = &store;
  js.frames = frames;
  js.host_trap = &host_trap;

#define RELOAD_MEM()                                            \
  do {                                                          \
    memi = inst->memories.empty() ? nullptr : inst->memories[0]; \
    mem = memi ? memi->data : nullptr;                          \
    mem_size = memi ? memi->size : 0;                           \
  } while (0)
  // Handler words are offsets from the first handler's label (see HandlerWord).
  WEFT_PINNED const char* const handler_base WEFT_PIN("r15") =
      static_cast<const char*>(&&L_Unreachable);
#define NEXT() goto* static_cast<const void*>(handler_base + static_cast<int32_t>(*pc))
// Makes `f` the current function (its code, and its instance's memory when that changes).
#define SWITCH_TO(f)                                    \
  do {                                                  \
    func = (f);                                         \
    cf = static_cast<CompiledFunc*>(func->compiled);    \
    if (func->instance != inst) {                       \
      inst = func->instance;                            \
      RELOAD_MEM();                                     \
    }                                                   \
  } while (0)
// At function entry and loop back-edges: run native code if the function has it, and
// translate it once it has been hot for jit::HotThreshold() calls and back-edges.
#define MAYBE_NATIVE()                                                       \
  do {                                                                      \
    if (!cf->native && jit_on && ++cf->hotness >= hot_threshold) {          \
      CompileNativeCode(store, func);                                       \
      arena = store.objects().jit_arena.get();                              \
    }                                                                       \
    if (cf->native) goto enter_native;                                      \
  } while (0)
#define S(i) fp[pc[i]]
#define TRAP(kind)      \
  do {                  \
    trap_kind = (kind); \
    goto trap;          \
  } while (0)

  if (st.activations >= kMaxActivations || fp + cf->frame_slots > slots_end) {
    Trap t = Trap::Make(TrapKind::kCallStackExhausted);
    t.backtrace.push_back(MakeFrame(func, nullptr));
    return t;
  }
  st.activations++;
  std::memset(static_cast<void*>(fp + cf->num_params), 0,
              (cf->num_locals - cf->num_params) * sizeof(Value));
  if (!cf->consts.empty())
    std::memcpy(static_cast<void*>(fp + cf->num_locals), cf->consts.data(), cf->consts.size() * 8);
  RELOAD_MEM();
  if (interrupt->load(std::memory_order_relaxed)) TRAP(TrapKind::kInterrupted);
  MAYBE_NATIVE();
  NEXT();

enter_native: {
  js.fp = fp;
  js.fsp = fsp;
  {
    // Native calls push no Frames, so the stack limit also bounds their depth: at 16
    // bytes a level, the Frames left (less one for a host call's caller) fit the calls
    // native code can make before the limit. (Enter's own frame is below
    // native_stack_base, which only makes the bound stricter.)
    intptr_t base = reinterpret_cast<intptr_t>(native_stack_base);
    intptr_t by_frames = base - 16 * (static_cast<intptr_t>(frames_end - fsp) - 2);
    intptr_t by_budget = base - static_cast<intptr_t>(jit::kNativeStackBudget);
    js.stack_limit = reinterpret_cast<const void*>(std::max(by_frames, by_budget));
  }
  js.mem = mem;
  js.mem_size = mem_size;
  jit::EnterResult r = arena->Enter(&js, cf->native + cf->native_at[pc - cf->code.data()]);
  if (memi) mem_size = memi->size;  // native code may have grown the memory
  fp = js.fp;
  fsp = js.fsp;
  if (r == jit::EnterResult::kReturned) goto L_Return;
  pc = js.exit_pc;
  acc = js.exit_acc;
  SWITCH_TO(js.exit_func);
  if (host_trap) goto trap_host;  // a host function native code called returned a trap
  NEXT();
}

  // ---- control ----
L_Unreachable:
  TRAP(TrapKind::kUnreachable);
// Taken branches: a backward jump is a loop back-edge, where the interrupt flag is checked
// (so a loop costs no extra instruction per iteration).
#define JUMP(rel_word)                                                            \
  do {                                                                            \
    int64_t rel_ = BranchOffset(rel_word);                                        \
    if (rel_ <= 0 && interrupt->load(std::memory_order_relaxed))                  \
      TRAP(TrapKind::kInterrupted);                                               \
    pc += rel_;                                                                   \
    if (rel_ <= 0) MAYBE_NATIVE();                                                \
  } while (0)
L_Br:
  JUMP(pc[1]);
  NEXT();
L_BrIf:
  if (S(1).i32()) JUMP(pc[2]); else pc += 3;
  NEXT();
L_BrUnless:
  if (!S(1).i32()) JUMP(pc[2]); else pc += 3;
  NEXT();
// Pairs (iops.def) run the first instruction's part below and then the second one's
// handler body, with pc at the second instruction (so a trap there reports it).
#define FIRST_Copy    \
  S(1) = S(2);        \
  pc += 3;
// The i32 ALU ops of the pairs, as in numeric_ops.def.
#define ALU32_I32Add(a, b) ((a) + (b))
#define ALU32_I32Sub(a, b) ((a) - (b))
#define ALU32_I32And(a, b) ((a) & (b))
#define ALU32_I32Or(a, b) ((a) | (b))
#define ALU32_I32Xor(a, b) ((a) ^ (b))
#define ALU32_I32Shl(a, b) num::Shl(a, b)
#define ALU32_I32ShrU(a, b) num::ShrU(a, b)
#define ALU32_I32Rotl(a, b) num::Rotl(a, b)
#define ALU32_I32Mul(a, b) ((a) * (b))
#define FIRST_ALU32(Op)                                                   \
  S(1).bits = acc = static_cast<uint32_t>(ALU32_##Op(S(2).i32(), S(3).i32())); \
  pc += 4;
#define FIRST_I32Add FIRST_ALU32(I32Add)
#define FIRST_I32Sub FIRST_ALU32(I32Sub)
#define FIRST_I32And FIRST_ALU32(I32And)
#define FIRST_I32Or FIRST_ALU32(I32Or)
#define FIRST_I32Xor FIRST_ALU32(I32Xor)
#define FIRST_I32Shl FIRST_ALU32(I32Shl)
#define FIRST_I32ShrU FIRST_ALU32(I32ShrU)
#define FIRST_I32Rotl FIRST_ALU32(I32Rotl)
#define FIRST_I32Mul FIRST_ALU32(I32Mul)
#define FIRST_I64Add                      \
  S(1).bits = acc = S(2).bits + S(3).bits; \
  pc += 4;
#define BRCMP_BODY(T, op)                                        \
  if (static_cast<T>(S(1).bits) op static_cast<T>(S(2).bits))    \
    JUMP(pc[3]);                                                 \
  else                                                           \
    pc += 4;                                                     \
  NEXT();
// Each compare-and-branch, and the pair of the add of its width and it.
#define BRCMP(Name, T, op, Add) \
  L_BrIf##Name:                 \
    BRCMP_BODY(T, op)           \
  L_##Add##_BrIf##Name:         \
    FIRST_##Add                 \
    BRCMP_BODY(T, op)
  BRCMP(I32Eq, uint32_t, ==, I32Add)
  BRCMP(I32Ne, uint32_t, !=, I32Add)
  BRCMP(I32LtS, int32_t, <, I32Add)
  BRCMP(I32LtU, uint32_t, <, I32Add)
  BRCMP(I32GtS, int32_t, >, I32Add)
  BRCMP(I32GtU, uint32_t, >, I32Add)
  BRCMP(I32LeS, int32_t, <=, I32Add)
  BRCMP(I32LeU, uint32_t, <=, I32Add)
  BRCMP(I32GeS, int32_t, >=, I32Add)
  BRCMP(I32GeU, uint32_t, >=, I32Add)
  BRCMP(I64Eq, uint64_t, ==, I64Add)
  BRCMP(I64Ne, uint64_t, !=, I64Add)
  BRCMP(I64LtS, int64_t, <, I64Add)
  BRCMP(I64LtU, uint64_t, <, I64Add)
  BRCMP(I64GtS, int64_t, >, I64Add)
  BRCMP(I64GtU, uint64_t, >, I64Add)
  BRCMP(I64LeS, int64_t, <=, I64Add)
  BRCMP(I64LeU, uint64_t, <=, I64Add)
  BRCMP(I64GeS, int64_t, >=, I64Add)
  BRCMP(I64GeU, uint64_t, >=, I64Add)
#undef BRCMP
#undef BRCMP_BODY
L_BrTable: {
  uint64_t idx = S(1).i32();
  uint64_t n = pc[2];
  if (idx > n) idx = n;
  JUMP(pc[3 + idx]);
  NEXT();
}
L_Copy:
  S(1) = S(2);
  pc += 3;
  NEXT();
L_Copy_Copy:
  FIRST_Copy
  S(1) = S(2);
  pc += 3;
  NEXT();
L_Const:
  S(1).bits = Imm64(pc + 2);
  pc += 4;
  NEXT();
L_Const32:
  S(1).bits = pc[2];
  pc += 3;
  NEXT();
L_InterruptCheck:
  if (interrupt->load(std::memory_order_relaxed)) TRAP(TrapKind::kInterrupted);
  pc += 1;
  NEXT();
L_Select:
  S(1) = S(4).i32() ? S(2) : S(3);
  pc += 5;
  NEXT();
L_GlobalGet:
  S(1) = inst->globals[pc[2]]->value;
  pc += 3;
  NEXT();
L_GlobalSet:
  inst->globals[pc[1]]->value = S(2);
  pc += 3;
  NEXT();
L_RefIsNull:
  S(1).bits = S(2).bits == 0;
  pc += 3;
  NEXT();

  // ---- calls ----
L_I32Add_Call:
  FIRST_I32Add
L_Call:
  callee = inst->funcs[pc[1]];
  nfp = fp + pc[2];
  ret = pc + 3;
  goto do_call;
L_CallIndirect: {
  auto* table = inst->tables[pc[1]];
  uint32_t idx = S(3).i32();
  if (idx >= table->elements.size()) TRAP(TrapKind::kUndefinedElement);
  callee = static_cast<FuncInst*>(table->elements[idx].ref());
  if (!callee) TRAP(TrapKind::kUninitializedElement);
  if (callee->type_id != pc[2]) TRAP(TrapKind::kIndirectCallTypeMismatch);
  nfp = fp + pc[4];
  ret = pc + 5;
  goto do_call;
}
do_call:
  if (fsp >= frames_end) TRAP(TrapKind::kCallStackExhausted);
  // A host call does not check the interrupt flag: it cannot loop by itself (the guest's
  // loops check at their back-edges, its calls to wasm functions below), and a host
  // function that blocks is woken by its context's interrupt.
  if (callee->is_host()) {
    *fsp++ = Frame{ret, fp, func};
    host_trap = CallHostFunction(store, inst, callee, nfp, static_cast<uint32_t>(fsp - frames),
                                 fp + cf->frame_slots);
    --fsp;
    if (host_trap) goto trap_host;
    pc = ret;
    RELOAD_MEM();
    if (cf->native) goto enter_native;
    NEXT();
  }
  {
    if (interrupt->load(std::memory_order_relaxed)) TRAP(TrapKind::kInterrupted);
    CompiledFunc* ncf = callee->compiled ? static_cast<CompiledFunc*>(callee->compiled)
                                         : CompileFunction(store, callee);
    if (nfp + ncf->frame_slots > slots_end) TRAP(TrapKind::kCallStackExhausted);
    *fsp++ = Frame{ret, fp, func};
    // Zero the declared locals and copy the constants in (short loops: no libc call).
    for (Value *p = nfp + ncf->num_params, *e = nfp + ncf->num_locals; p < e; ++p) p->bits = 0;
    {
      Value* p = nfp + ncf->num_locals;
      for (uint64_t c : ncf->consts) (p++)->bits = c;
    }
    fp = nfp;
    func = callee;
    cf = ncf;
    if (callee->instance != inst) {
      inst = callee->instance;
      RELOAD_MEM();
    }
    pc = cf->code.data();
    MAYBE_NATIVE();
    NEXT();
  }
L_I32Add_Return:
  FIRST_I32Add
  goto L_Return;
L_I32Sub_Return:
  FIRST_I32Sub
L_Return:
  if (fsp == frames_base) goto done;
  {
    const Frame& f = *--fsp;
    pc = f.ret_pc;
    fp = f.fp;
    // (mem_size needs no reload: memory.grow in this Run updates it, and SWITCH_TO
    // reloads it when the instance changes.)
    SWITCH_TO(f.func);
    if (cf->native) goto enter_native;
    NEXT();
  }

  // ---- memory ----
// Each load and store also has an `A` variant taking the address from the accumulator.
#define LOAD_PART(ADDR, T, CONV)                                   \
  {                                                                \
    uint64_t ea = uint64_t{ADDR} + pc[3];                          \
    if (ea + sizeof(T) > mem_size) TRAP(TrapKind::kMemoryOutOfBounds); \
    T v;                                                           \
    std::memcpy(&v, mem + ea, sizeof(T));                          \
    S(1).bits = acc = CONV;                                        \
    pc += 4;                                                       \
  }
#define LOAD_BODY(ADDR, T, CONV) \
  LOAD_PART(ADDR, T, CONV)       \
  NEXT();
// i32.load as the first of a pair.
#define FIRST_I32Load LOAD_PART(S(2).i32(), uint32_t, v)
#define LOAD(Name, T, CONV)                                        \
  L_##Name: LOAD_BODY(S(2).i32(), T, CONV)                         \
  L_##Name##A: LOAD_BODY(static_cast<uint32_t>(acc), T, CONV)      \
  L_I32Add_##Name##A: FIRST_I32Add LOAD_BODY(static_cast<uint32_t>(acc), T, CONV)
#define STORE_BODY(ADDR, VAL, T)                                      \
  {                                                                \
    uint64_t ea = uint64_t{ADDR} + pc[3];                          \
    if (ea + sizeof(T) > mem_size) TRAP(TrapKind::kMemoryOutOfBounds); \
    T v = static_cast<T>(VAL);                                     \
    std::memcpy(mem + ea, &v, sizeof(T));                          \
    pc += 4;                                                       \
    NEXT();                                                        \
  }
#define STORE(Name, T)                                             \
  L_##Name: STORE_BODY(S(1).i32(), S(2).bits, T)                   \
  L_##Name##A: STORE_BODY(static_cast<uint32_t>(acc), S(2).bits, T) \
  L_##Name##V: STORE_BODY(S(1).i32(), acc, T)                      \
  L_I32Add_##Name##A: FIRST_I32Add STORE_BODY(static_cast<uint32_t>(acc), S(2).bits, T)
  LOAD(I32Load, uint32_t, v)
  LOAD(I64Load, uint64_t, v)
  LOAD(F32Load, uint32_t, v)
  LOAD(F64Load, uint64_t, v)
  LOAD(I32Load8S, int8_t, static_cast<uint32_t>(static_cast<int32_t>(v)))
  LOAD(I32Load8U, uint8_t, v)
  LOAD(I32Load16S, int16_t, static_cast<uint32_t>(static_cast<int32_t>(v)))
  LOAD(I32Load16U, uint16_t, v)
  LOAD(I64Load8S, int8_t, static_cast<uint64_t>(static_cast<int64_t>(v)))
  LOAD(I64Load8U, uint8_t, v)
  LOAD(I64Load16S, int16_t, static_cast<uint64_t>(static_cast<int64_t>(v)))
  LOAD(I64Load16U, uint16_t, v)
  LOAD(I64Load32S, int32_t, static_cast<uint64_t>(static_cast<int64_t>(v)))
  LOAD(I64Load32U, uint32_t, v)
L_I32Load_I32Load:
  FIRST_I32Load
  LOAD_BODY(S(2).i32(), uint32_t, v)
  STORE(I32Store, uint32_t)
  STORE(I64Store, uint64_t)
  STORE(F32Store, uint32_t)
  STORE(F64Store, uint64_t)
  STORE(I32Store8, uint8_t)
  STORE(I32Store16, uint16_t)
  STORE(I64Store8, uint8_t)
  STORE(I64Store16, uint16_t)
  STORE(I64Store32, uint32_t)
#undef LOAD
#undef STORE
L_I32Add_I32StoreV: FIRST_I32Add STORE_BODY(S(1).i32(), acc, uint32_t)
L_I32Add_I32Store8V: FIRST_I32Add STORE_BODY(S(1).i32(), acc, uint8_t)
L_I32Add_I32Store16V: FIRST_I32Add STORE_BODY(S(1).i32(), acc, uint16_t)
L_I32Or_I32StoreV: FIRST_I32Or STORE_BODY(S(1).i32(), acc, uint32_t)
L_MemorySize:
  S(1).bits = mem_size >> 16;
  pc += 2;
  NEXT();
L_MemoryGrow: {
  int64_t old = memi->Grow(S(2).i32());
  S(1).bits = static_cast<uint32_t>(old);
  mem_size = memi->size;
  pc += 3;
  NEXT();
}
L_MemoryFill: {
  uint64_t d = S(1).i32(), n = S(3).i32();
  uint8_t v = static_cast<uint8_t>(S(2).bits);
  if (d + n > mem_size) TRAP(TrapKind::kMemoryOutOfBounds);
  std::memset(mem + d, v, n);
  pc += 4;
  NEXT();
}
L_MemoryCopy: {
  uint64_t d = S(1).i32(), s = S(2).i32(), n = S(3).i32();
  if (d + n > mem_size || s + n > mem_size) TRAP(TrapKind::kMemoryOutOfBounds);
  std::memmove(mem + d, mem + s, n);
  pc += 4;
  NEXT();
}
L_MemoryInit: {
  const DataInst& data = inst->datas[pc[1]];
  uint64_t d = S(2).i32(), s = S(3).i32(), n = S(4).i32();
  if (s + n > data.bytes.size() || d + n > mem_size) TRAP(TrapKind::kMemoryOutOfBounds);
  if (n) std::memcpy(mem + d, data.bytes.data() + s, n);
  pc += 5;
  NEXT();
}
L_DataDrop:
  inst->datas[pc[1]].bytes = {};
  pc += 2;
  NEXT();

  // ---- tables ----
L_TableGet: {
  auto* t = inst->tables[pc[2]];
  uint32_t i = S(3).i32();
  if (i >= t->elements.size()) TRAP(TrapKind::kTableOutOfBounds);
  S(1) = t->elements[i];
  pc += 4;
  NEXT();
}
L_TableSet: {
  auto* t = inst->tables[pc[1]];
  uint32_t i = S(2).i32();
  if (i >= t->elements.size()) TRAP(TrapKind::kTableOutOfBounds);
  t->elements[i] = S(3);
  pc += 4;
  NEXT();
}
L_TableSize:
  S(1).bits = static_cast<uint32_t>(inst->tables[pc[2]]->elements.size());
  pc += 3;
  NEXT();
L_TableGrow: {
  auto* t = inst->tables[pc[2]];
  int64_t old = t->Grow(S(4).i32(), S(3));
  S(1).bits = static_cast<uint32_t>(old);
  pc += 5;
  NEXT();
}
L_TableFill: {
  auto* t = inst->tables[pc[1]];
  uint64_t i = S(2).i32(), n = S(4).i32();
  Value v = S(3);
  if (i + n > t->elements.size()) TRAP(TrapKind::kTableOutOfBounds);
  std::fill(t->elements.begin() + i, t->elements.begin() + i + n, v);
  pc += 5;
  NEXT();
}
L_TableCopy: {
  auto* dt = inst->tables[pc[1]];
  auto* stb = inst->tables[pc[2]];
  uint64_t d = S(3).i32(), s = S(4).i32(), n = S(5).i32();
  if (d + n > dt->elements.size() || s + n > stb->elements.size())
    TRAP(TrapKind::kTableOutOfBounds);
  if (n) std::memmove(dt->elements.data() + d, stb->elements.data() + s, n * sizeof(Value));
  pc += 6;
  NEXT();
}
L_TableInit: {
  auto* t = inst->tables[pc[1]];
  const ElemInst& e = inst->elems[pc[2]];
  uint64_t d = S(3).i32(), s = S(4).i32(), n = S(5).i32();
  if (s + n > e.elements.size() || d + n > t->elements.size()) TRAP(TrapKind::kTableOutOfBounds);
  if (n) std::memmove(t->elements.data() + d, e.elements.data() + s, n * sizeof(Value));
  pc += 6;
  NEXT();
}
L_ElemDrop:
  inst->elems[pc[1]].elements = {};
  pc += 2;
  NEXT();

  // ---- numeric ----
#define RU32(i) S(i).i32()
#define RS32(i) static_cast<int32_t>(S(i).i32())
#define RU64(i) S(i).bits
#define RS64(i) static_cast<int64_t>(S(i).bits)
#define RF32(i) S(i).f32()
#define RF64(i) S(i).f64()
// The same reads from the accumulator (the previous instruction's result).
#define RU32A() static_cast<uint32_t>(acc)
#define RS32A() static_cast<int32_t>(static_cast<uint32_t>(acc))
#define RU64A() acc
#define RS64A() static_cast<int64_t>(acc)
// Integer results go to the slot and to the accumulator; float results only to the slot
// (moving them to a general register costs more than it saves).
#define WI32(x) S(1).bits = acc = static_cast<uint32_t>(x)
#define WI64(x) S(1).bits = acc = static_cast<uint64_t>(x)
#define WF32(x) S(1) = Value::F32(x)
#define WF64(x) S(1) = Value::F64(x)
#define BIN(Name, RD, WR, expr) \
  L_##Name: {                   \
    auto a = RD(2);             \
    auto b = RD(3);             \
    WR(expr);                   \
    pc += 4;                    \
    NEXT();                     \
  }
#define UN(Name, RD, WR, expr) \
  L_##Name: {                  \
    auto a = RD(2);            \
    WR(expr);                  \
    pc += 3;                   \
    NEXT();                    \
  }
// Integer-input ops also get an `A` variant reading operand a from the accumulator.
#define BINA(Name, RD, WR, expr) \
  BIN(Name, RD, WR, expr)        \
  L_##Name##A: {                 \
    auto a = RD##A();            \
    auto b = RD(3);              \
    WR(expr);                    \
    pc += 4;                     \
    NEXT();                      \
  }
#define UNA(Name, RD, WR, expr) \
  UN(Name, RD, WR, expr)        \
  L_##Name##A: {                \
    auto a = RD##A();           \
    WR(expr);                   \
    pc += 3;                    \
    NEXT();                     \
  }
#define BIN_TRAP(Name, T, RD, fn)                 \
  L_##Name: {                                     \
    T r;                                          \
    if (!fn(static_cast<T>(RD(2)), static_cast<T>(RD(3)), &r, &trap_kind)) goto trap; \
    S(1).bits = r;                                \
    pc += 4;                                      \
    NEXT();                                       \
  }
#define TRUNC(Name, I, U, RD)                                  \
  L_##Name: {                                                  \
    I r;                                                       \
    if (!num::Trunc<I>(RD(2), &r, &trap_kind)) goto trap;      \
    S(1).bits = static_cast<U>(r);                             \
    pc += 3;                                                   \
    NEXT();                                                    \
  }
#define TRUNC_SAT(Name, I, U, RD)                               \
  L_##Name:                                                     \
    S(1).bits = static_cast<U>(num::TruncSat<I>(RD(2)));        \
    pc += 3;                                                    \
    NEXT();

#include "wasm/interp/numeric_ops.def"

// The ALU pairs of iops.def (the other pairs are next to their second op's handler).
#define IOP(Name)
#define IOP_PAIR(First, Second)
// Operand a of the second op from its slot, or (the A variant) from the accumulator.
#define ALU_PAIR_BODY(First, Second, A)             \
  FIRST_##First                                     \
  WI32(ALU32_##Second(A, RU32(3)));                 \
  pc += 4;                                          \
  NEXT();
#define IOP_ALU_PAIR(First, Second)                                  \
  L_##First##_##Second: ALU_PAIR_BODY(First, Second, RU32(2))        \
  L_##First##_##Second##A: ALU_PAIR_BODY(First, Second, RU32A())
#include "wasm/interp/iops.def"
#undef IOP
#undef ALU_PAIR_BODY

trap: {
  st.depth = static_cast<uint32_t>(fsp - frames);
  Trap t = Trap::Make(trap_kind);
  FillBacktrace(t, st, func, pc);
  st.depth = base_depth;
  st.activations--;
  return t;
}
trap_host: {
  st.depth = static_cast<uint32_t>(fsp - frames);
  Trap t = std::move(*host_trap);
  if (t.backtrace.empty() && t.kind != TrapKind::kExit) FillBacktrace(t, st, func, pc);
  st.depth = base_depth;
  st.activations--;
  return t;
}
done:
  st.depth = base_depth;
  st.activations--;
  return std::nullopt;
}

}  // namespace

// Out of line: the argument copy may own a heap buffer, and a variable with a destructor
// must not be in scope of the computed-goto labels (clang rejects that).
// A std::function host gets a private copy of its arguments, since its results share
// nfp[] with them. (Raw storage: a Value array would be zeroed on every call.)
std::optional<Trap> CallHostFunctionCopyingArgs(Caller& caller, FuncInst* callee, Value* nfp) {
  size_t np = callee->type->params.size();
  alignas(Value) unsigned char small[16 * sizeof(Value)];
  std::vector<Value> big;
  Value* args;
  if (np <= 16) {
    args = std::launder(reinterpret_cast<Value*>(small));
    for (size_t i = 0; i < np; ++i) std::memcpy(small + i * sizeof(Value), &nfp[i], sizeof(Value));
  } else {
    big.assign(nfp, nfp + np);
    args = big.data();
  }
  return callee->host(caller, args, nfp);
}

std::optional<Trap> Execute(Store& store, FuncInst* func, Value* fp) {
  return Run(&store, func, fp, nullptr);
}

const int32_t* HandlerTable() {
  static const int32_t* table = [] {
    const int32_t* t = nullptr;
    (void)Run(nullptr, nullptr, nullptr, &t);
    return t;
  }();
  return table;
}

}  // namespace weft::wasm::interp
