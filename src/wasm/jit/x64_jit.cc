// The baseline JIT for x86-64: one pass over a function's internal code (the
// slot-addressed instructions of compile/compiler.cc), each instruction becoming a short
// native sequence on the same frame slots. See jit/README.md for the design.
//
// Registers while native code runs (all callee-saved, so C helpers keep them):
//   rbx  fp: the current frame's slots          r15  top of the explicit frame stack
//   r12  base of memory 0                       r13  size of memory 0 in bytes
//   r14  the JitState of this activation        rbp  the store's interrupt flag
// rsp is 16-byte aligned inside a function body (the entry does `sub rsp, 8`), so C
// helpers are called directly.
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "wasm/interp/numeric.h"
#include "wasm/jit/jit.h"
#include "wasm/jit/x64_assembler.h"
#include "wasm/runtime/store_impl.h"

namespace weft::wasm::jit {

#if defined(__x86_64__) && defined(__linux__)

bool Enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("WEFT_JIT");
    return !(v && std::strcmp(v, "0") == 0);
  }();
  return enabled;
}

uint32_t HotThreshold() {
  static const uint32_t threshold = [] {
    const char* v = std::getenv("WEFT_JIT_THRESHOLD");
    return v && *v ? static_cast<uint32_t>(std::strtoul(v, nullptr, 10)) : 100u;
  }();
  return threshold;
}

namespace {

// The frame-stack top is not kept in a register: native calls push no Frames, so it
// stays JitState::fsp for the whole native run, and R15 serves the register pool.
constexpr Reg kFp = RBX, kMem = R12, kMemSize = R13, kState = R14, kIntr = RBP;
constexpr size_t kChunkSize = size_t{1} << 20;
constexpr uint32_t kNoNative = ~uint32_t{0};

#define STATE_FIELD(f) Mem{kState, static_cast<int32_t>(offsetof(JitState, f))}
static_assert(offsetof(Frame, ret_pc) == 0 && offsetof(Frame, fp) == 8 &&
              offsetof(Frame, func) == 16 && sizeof(Frame) == 24);

// The integer ops emitted inline that read their operands through registers when a
// register holds them (LoadSlot, AluSlot, HeldIn) and cannot exit: 1 for [dst a], 2 for
// [dst a b], else 0.
int IntOpOnRegisters(IOp op) {
  switch (op) {
    case IOp::kI32Add: case IOp::kI64Add: case IOp::kI32Sub: case IOp::kI64Sub:
    case IOp::kI32And: case IOp::kI64And: case IOp::kI32Or: case IOp::kI64Or:
    case IOp::kI32Xor: case IOp::kI64Xor: case IOp::kI32Mul: case IOp::kI64Mul:
    case IOp::kI32Shl: case IOp::kI64Shl: case IOp::kI32ShrS: case IOp::kI64ShrS:
    case IOp::kI32ShrU: case IOp::kI64ShrU: case IOp::kI32Rotl: case IOp::kI64Rotl:
    case IOp::kI32Rotr: case IOp::kI64Rotr:
    case IOp::kI32Eq: case IOp::kI32Ne: case IOp::kI32LtS: case IOp::kI32LtU:
    case IOp::kI32GtS: case IOp::kI32GtU: case IOp::kI32LeS: case IOp::kI32LeU:
    case IOp::kI32GeS: case IOp::kI32GeU: case IOp::kI64Eq: case IOp::kI64Ne:
    case IOp::kI64LtS: case IOp::kI64LtU: case IOp::kI64GtS: case IOp::kI64GtU:
    case IOp::kI64LeS: case IOp::kI64LeU: case IOp::kI64GeS: case IOp::kI64GeU:
      return 2;
    case IOp::kI32Eqz: case IOp::kI64Eqz: case IOp::kI32WrapI64: case IOp::kI64ExtendI32U:
      return 1;
    default:
      return 0;
  }
}

// Whether `ins`, an instruction of (base) op `op`, is an IntOpOnRegisters op reading `slot`.
bool IntOpReads(IOp op, const CodeWord* ins, uint64_t slot) {
  int n = IntOpOnRegisters(op);
  return n > 0 && (ins[2] == slot || (n == 2 && ins[3] == slot));
}

// Frame slot i (Translator::Slot also notes reads of constant slots).
Mem SlotMem(uint64_t i) { return Mem{kFp, static_cast<int32_t>(i * 8)}; }

// ---- what each internal op is (built from iops.def) ----
enum class Kind : uint8_t { kCtl, kUn, kBin, kLoad, kStore };
struct OpInfo {
  IOp base;                // the op an accumulator/value variant is a form of
  Kind kind = Kind::kCtl;
  bool acc_a = false;      // reads operand a from the accumulator (`...A`)
  bool acc_v = false;      // a store reading its value from the accumulator (`...V`)
  // Float ops and sign extensions read their operands from the slots (as memory operands),
  // not through registers (set on base ops only).
  bool memory_operands = false;
};
constexpr bool ReadsMemoryOperands(std::string_view name) {
  return name.starts_with('F') || name.find("F32") != name.npos || name.find("F64") != name.npos ||
         (name.find("Extend") != name.npos && name.ends_with('S'));
}
struct OpTables {
  OpInfo info[static_cast<size_t>(IOp::kCount)];
  std::unordered_map<CodeWord, IOp> by_handler;  // from HandlerWord()
  OpTables() {
    for (size_t i = 0; i < static_cast<size_t>(IOp::kCount); ++i) info[i].base = static_cast<IOp>(i);
#define AT(Name) info[static_cast<size_t>(IOp::k##Name)]
#define IOP(Name)
#define IOP_UN(Name) AT(Name).kind = Kind::kUn; AT(Name).memory_operands = ReadsMemoryOperands(#Name);
#define IOP_BIN(Name) AT(Name).kind = Kind::kBin; AT(Name).memory_operands = ReadsMemoryOperands(#Name);
#define IOP_LOAD(Name) AT(Name).kind = Kind::kLoad;
#define IOP_STORE(Name) AT(Name).kind = Kind::kStore;
#define IOP_ACC(Name) AT(Name##A) = OpInfo{IOp::k##Name, AT(Name).kind, true, false};
#define IOP_STORE_V(Name) AT(Name##V) = OpInfo{IOp::k##Name, Kind::kStore, false, true};
#include "wasm/interp/iops.def"
#undef IOP
#undef AT
    // A pair's handler word stands for its first instruction: the second follows it as
    // it was (iops.def).
    IOp as_op[static_cast<size_t>(IOp::kCount)];
    for (size_t i = 0; i < static_cast<size_t>(IOp::kCount); ++i) as_op[i] = static_cast<IOp>(i);
#define IOP(Name)
#define IOP_PAIR(First, Second) as_op[static_cast<size_t>(IOp::k##First##_##Second)] = IOp::k##First;
#include "wasm/interp/iops.def"
#undef IOP
    const int32_t* handlers = interp::HandlerTable();
    for (size_t i = 0; i < static_cast<size_t>(IOp::kCount); ++i)
      by_handler.emplace(HandlerWord(handlers, static_cast<IOp>(i)), as_op[i]);
  }
};
const OpTables& Ops() {
  static const OpTables t;
  return t;
}

// ---- helpers for the numeric ops not emitted inline: the same expressions as the
// interpreter's handlers (numeric_ops.def), on raw 64-bit slot values ----
#define RU32_RAW(x) static_cast<uint32_t>(x)
#define RS32_RAW(x) static_cast<int32_t>(static_cast<uint32_t>(x))
#define RU64_RAW(x) (x)
#define RS64_RAW(x) static_cast<int64_t>(x)
#define RF32_RAW(x) Value{x}.f32()
#define RF64_RAW(x) Value{x}.f64()
#define WI32_RAW(x) uint64_t{static_cast<uint32_t>(x)}
#define WI64_RAW(x) static_cast<uint64_t>(x)
#define WF32_RAW(x) Value::F32(x).bits
#define WF64_RAW(x) Value::F64(x).bits
// Plain helpers: uint64_t H(a, b). Trapping helpers: int T(a, b, out) returns 0 on a trap
// (native code then exits and the interpreter re-runs the instruction, raising the trap).
#define UN(Name, RD, WR, expr) \
  uint64_t H_##Name(uint64_t x, uint64_t) { auto a = RD##_RAW(x); return WR##_RAW(expr); }
#define UNA UN
#define BIN(Name, RD, WR, expr)                 \
  uint64_t H_##Name(uint64_t x, uint64_t y) {   \
    auto a = RD##_RAW(x);                       \
    auto b = RD##_RAW(y);                       \
    return WR##_RAW(expr);                      \
  }
#define BINA BIN
#define BIN_TRAP(Name, T, RD, fn)                                      \
  int H_##Name(uint64_t x, uint64_t y, uint64_t* out) {                \
    T r;                                                               \
    TrapKind k;                                                        \
    if (!fn(static_cast<T>(RD##_RAW(x)), static_cast<T>(RD##_RAW(y)), &r, &k)) return 0; \
    *out = r;                                                          \
    return 1;                                                          \
  }
#define TRUNC(Name, I, U, RD)                                          \
  int H_##Name(uint64_t x, uint64_t, uint64_t* out) {                  \
    I r;                                                               \
    TrapKind k;                                                        \
    if (!num::Trunc<I>(RD##_RAW(x), &r, &k)) return 0;                 \
    *out = static_cast<U>(r);                                          \
    return 1;                                                          \
  }
#define TRUNC_SAT(Name, I, U, RD) \
  uint64_t H_##Name(uint64_t x, uint64_t) { return static_cast<U>(num::TruncSat<I>(RD##_RAW(x))); }
#include "wasm/interp/numeric_ops.def"
#undef UN
#undef UNA
#undef BIN
#undef BINA
#undef BIN_TRAP
#undef TRUNC
#undef TRUNC_SAT

struct Helper {
  const void* fn = nullptr;
  bool traps = false;
};
struct HelperTable {
  Helper h[static_cast<size_t>(IOp::kCount)];
  HelperTable() {
#define PLAIN(Name, ...) h[static_cast<size_t>(IOp::k##Name)] = {reinterpret_cast<const void*>(&H_##Name), false};
#define TRAPPING(Name, ...) h[static_cast<size_t>(IOp::k##Name)] = {reinterpret_cast<const void*>(&H_##Name), true};
#define UN PLAIN
#define UNA PLAIN
#define BIN PLAIN
#define BINA PLAIN
#define TRUNC_SAT PLAIN
#define BIN_TRAP TRAPPING
#define TRUNC TRAPPING
#include "wasm/interp/numeric_ops.def"
#undef UN
#undef UNA
#undef BIN
#undef BINA
#undef TRUNC_SAT
#undef BIN_TRAP
#undef TRUNC
#undef PLAIN
#undef TRAPPING
  }
};
const HelperTable& Helpers() {
  static const HelperTable t;
  return t;
}

// ---- runtime helpers called from native code ----
// call_indirect: the callee when it can be called natively (in bounds, non-null, the
// right type, native code in the same instance); else nullptr and the interpreter takes
// the instruction (which raises the trap or makes the host call).
// Returns &callee->jit_code (what CallNative expects in rax).
void** ResolveIndirect(TableInst* table, uint64_t idx, uint64_t type_id, Instance* inst) {
  if (idx >= table->elements.size()) return nullptr;
  auto* f = static_cast<FuncInst*>(table->elements[idx].ref());
  if (!f || f->type_id != type_id || f->instance != inst || !f->jit_code) return nullptr;
  return &f->jit_code;
}
// Host calls from native code (see Translator::CallHost): 1 to continue, 0 after parking
// the host's trap. `fsp` is the frame-stack top at native entry: the Frames of the
// native calls in between are written only if the host re-enters wasm.
int HostCall(JitState* js, FuncInst* callee, Value* nfp, Value* sp_top, Frame* fsp,
             Instance* caller) {
  ExecState& st = js->store->objects().exec;
  st.native_host_caller = js;  // a re-entrant call writes the native Frames first
  std::optional<Trap> trap = interp::CallHostFunction(
      *js->store, caller, callee, nfp, static_cast<uint32_t>(fsp - js->frames), sp_top);
  st.native_host_caller = nullptr;
  if (!trap) return 1;
  *js->host_trap = std::move(trap);
  return 0;
}
// The exit path's first step (CodeArena::Enter): the Frames of the native calls the
// interpreter continues inside. Returns the new frame-stack top.
Frame* MaterializeOnExit(JitState* js, const void* const* ret_slot, Value* fp, Frame* fsp) {
  return js->arena->MaterializeFrames(*js, ret_slot, fp, fsp);
}
int MemFill(uint8_t* mem, uint64_t size, uint64_t d, uint64_t v, uint64_t n) {
  d = static_cast<uint32_t>(d);
  n = static_cast<uint32_t>(n);
  if (d + n > size) return 0;
  std::memset(mem + d, static_cast<uint8_t>(v), n);
  return 1;
}
int MemCopy(uint8_t* mem, uint64_t size, uint64_t d, uint64_t s, uint64_t n) {
  d = static_cast<uint32_t>(d);
  s = static_cast<uint32_t>(s);
  n = static_cast<uint32_t>(n);
  if (d + n > size || s + n > size) return 0;
  std::memmove(mem + d, mem + s, n);
  return 1;
}

Cond CondOf(IOp cmp) {
  switch (cmp) {
    case IOp::kI32Eq: case IOp::kI64Eq: return kE;
    case IOp::kI32Ne: case IOp::kI64Ne: return kNE;
    case IOp::kI32LtS: case IOp::kI64LtS: return kL;
    case IOp::kI32LtU: case IOp::kI64LtU: return kB;
    case IOp::kI32GtS: case IOp::kI64GtS: return kG;
    case IOp::kI32GtU: case IOp::kI64GtU: return kA;
    case IOp::kI32LeS: case IOp::kI64LeS: return kLE;
    case IOp::kI32LeU: case IOp::kI64LeU: return kBE;
    case IOp::kI32GeS: case IOp::kI64GeS: return kGE;
    default: return kAE;  // GeU
  }
}
bool Is64(IOp op) {
  switch (op) {
#define C(N) case IOp::k##N:
    C(I64Eq) C(I64Ne) C(I64LtS) C(I64LtU) C(I64GtS) C(I64GtU) C(I64LeS) C(I64LeU) C(I64GeS)
    C(I64GeU) C(I64Eqz) C(I64Add) C(I64Sub) C(I64Mul) C(I64And) C(I64Or) C(I64Xor) C(I64Shl)
    C(I64ShrS) C(I64ShrU) C(I64Rotl) C(I64Rotr) C(I64DivS) C(I64DivU) C(I64RemS) C(I64RemU)
    C(BrIfI64Eq) C(BrIfI64Ne) C(BrIfI64LtS) C(BrIfI64LtU) C(BrIfI64GtS) C(BrIfI64GtU)
    C(BrIfI64LeS) C(BrIfI64LeU) C(BrIfI64GeS) C(BrIfI64GeU)
#undef C
      return true;
    default:
      return false;
  }
}
// The compare a fused compare-and-branch op tests.
IOp CmpOfBranch(IOp op) {
  switch (op) {
#define B(T, C) case IOp::kBrIf##T##C: return IOp::k##T##C;
    B(I32, Eq) B(I32, Ne) B(I32, LtS) B(I32, LtU) B(I32, GtS) B(I32, GtU) B(I32, LeS)
    B(I32, LeU) B(I32, GeS) B(I32, GeU) B(I64, Eq) B(I64, Ne) B(I64, LtS) B(I64, LtU)
    B(I64, GtS) B(I64, GtU) B(I64, LeS) B(I64, LeU) B(I64, GeS) B(I64, GeU)
#undef B
    default: return IOp::kCount;
  }
}

// Words per instruction, from its op (and br_table's count).
size_t Length(IOp op, const CodeWord* pc) {
  const OpInfo& oi = Ops().info[static_cast<size_t>(op)];
  switch (oi.kind) {
    case Kind::kUn: return 3;
    case Kind::kBin: case Kind::kLoad: case Kind::kStore: return 4;
    case Kind::kCtl: break;
  }
  if (CmpOfBranch(op) != IOp::kCount) return 4;
  switch (op) {
    case IOp::kUnreachable: case IOp::kReturn: case IOp::kInterruptCheck: return 1;
    case IOp::kBr: case IOp::kMemorySize: case IOp::kDataDrop: case IOp::kElemDrop: return 2;
    case IOp::kBrIf: case IOp::kBrUnless: case IOp::kCopy: case IOp::kCall: case IOp::kConst32:
    case IOp::kGlobalGet: case IOp::kGlobalSet: case IOp::kMemoryGrow: case IOp::kTableSize:
    case IOp::kRefIsNull:
      return 3;
    case IOp::kConst:  // a 64-bit immediate: two words
    case IOp::kMemoryFill: case IOp::kMemoryCopy: case IOp::kTableGet: case IOp::kTableSet:
      return 4;
    case IOp::kCallIndirect: case IOp::kSelect: case IOp::kMemoryInit: case IOp::kTableGrow:
    case IOp::kTableFill:
      return 5;
    case IOp::kTableCopy: case IOp::kTableInit: return 6;
    case IOp::kBrTable: return 4 + pc[2];
    default: return 0;  // unknown: the translation gives up
  }
}

// Calls f(pc, op, instruction, length) for each instruction of `cf` in order while f
// returns true; false when f stopped or an instruction is not known.
template <class F>
bool WalkCode(const CompiledFunc& cf, F f) {
  const auto& ops = Ops();
  const CodeWord* code = cf.code.data();
  for (size_t pc = 0, n = cf.code.size(); pc < n;) {
    auto it = ops.by_handler.find(code[pc]);
    if (it == ops.by_handler.end()) return false;
    size_t len = Length(it->second, code + pc);
    if (len == 0 || !f(pc, it->second, code + pc, len)) return false;
    pc += len;
  }
  return true;
}

class Translator {
 public:
  Translator(FuncInst* func, CompiledFunc* cf) : func_(func), cf_(cf), code_(cf->code.data()) {}
  bool Run();
  std::vector<uint8_t>& bytes() { return as_.bytes(); }
  size_t entry_offset() const { return entry_offset_; }
  std::vector<uint32_t>& native_at() { return native_at_; }
  std::vector<CodeArena::FaultSite>& fault_sites() { return fault_out_; }
  std::vector<CodeArena::CallSite>& call_sites() { return call_sites_; }
  void set_guard(bool g) {
    guard_ = g;
    pool_regs_ = pool_size_ = g ? kMaxPoolSize : kMaxPoolSize - 1;
  }
  // The memory size: r13 holds it unless in guard mode.
  void LoadMemSize(Reg r) {
    if (!guard_) {
      as_.MovRR64(r, kMemSize);
      return;
    }
    as_.MovImm64(r, reinterpret_cast<uint64_t>(&func_->instance->memories[0]->size));
    as_.Load64(r, Mem{r, 0});
  }

 private:
  // An exit to the interpreter at instruction `pc` (index), taken on condition `c`.
  void ExitIf(Cond c, size_t pc) { exits_.push_back({as_.Jcc(c), pc, PinnedAtExit()}); }
  void ExitAlways(size_t pc) { exits_.push_back({as_.Jmp(), pc, PinnedAtExit()}); }
  // A jump to instruction `target` (index), on condition `c` or always. One that leaves
  // the active pinned loop writes its registers back first (a conditional one through a
  // stub, so the path that stays pays nothing).
  void JumpTo(size_t target, Cond c, bool always) {
    if (const PinnedLoop* loop = LeftBy(target)) {
      if (always) {
        FlushPinned(loop);
        jumps_.push_back({as_.Jmp(), target});
      } else {
        loop_exits_.push_back({as_.Jcc(c), target, loop});
      }
      return;
    }
    size_t field = always ? as_.Jmp() : as_.Jcc(c);
    if (active_ && target == active_->head) {
      as_.PatchRel32(field, active_body_);  // backward: the body is already emitted
      return;
    }
    jumps_.push_back({field, target});
  }
  // A taken backward branch checks the interrupt flag first (like the interpreter's).
  void CheckInterrupt(size_t pc) {
    as_.CmpMemByte0(Mem{kIntr, 0});
    ExitIf(kNE, pc);
  }
  void Branch(size_t pc, int64_t rel, Cond c, bool always) {
    size_t target = static_cast<size_t>(static_cast<int64_t>(pc) + rel);
    if (rel > 0) {
      JumpTo(target, c, always);
      return;
    }
    size_t skip = 0;
    if (!always) skip = as_.Jcc(Negate(c));
    CheckInterrupt(pc);
    JumpTo(target, kE, true);
    if (!always) as_.PatchRel32(skip, as_.size());
  }
  // A C call clobbers the pinned registers (most are caller-saved): call sites write them
  // back first (BeforeCall) and reload them after (ReloadPinned).
  void CallC(const void* fn) {
    as_.MovImm64(RAX, reinterpret_cast<uint64_t>(fn));
    as_.CallR(RAX);
    pinned_valid_ = false;
  }
  // Before a call (C or wasm): the slots are the truth again for whatever runs there.
  void BeforeCall() {
    ClearCache();
    FlushPinned();
  }

  bool Numeric(IOp op, const CodeWord* ins, size_t pc);
  bool InlineUn(IOp op, const CodeWord* ins, size_t pc);
  bool InlineBin(IOp op, const CodeWord* ins, size_t pc);
  Reg AddressReg(uint64_t addr_slot, uint64_t offset, uint32_t size, Reg scratch);
  Mem Access(Reg addr, uint64_t offset, uint32_t size, size_t pc);
  void Load(IOp op, const CodeWord* ins, size_t pc);
  void Store(IOp op, const CodeWord* ins, size_t pc);
  void Call(FuncInst* callee, uint64_t fp_off, size_t pc, size_t ret);
  void CallNative(FuncInst* callee, uint64_t fp_off, size_t pc, size_t ret);
  void CallHost(FuncInst* callee, uint64_t fp_off, size_t pc, size_t ret);
  // Records the call just emitted (its return address is here) for MaterializeFrames.
  void CallSiteHere(size_t ret, uint64_t callee_fp) {
    call_sites_.push_back({static_cast<uint32_t>(as_.size()), static_cast<uint32_t>(callee_fp),
                           code_ + ret});
  }
  void BrTable(const CodeWord* ins, size_t pc);
  void ResolveIndirectInline(TableInst* table, uint64_t idx_slot, uint32_t type_id, size_t pc);
  void EmitPrologue();
  std::vector<bool> LocalsSetBeforeRead() const;
  void EmitExits();

  struct PinnedLoop;
  struct Patch {
    size_t field;
    size_t target;  // instruction index (jumps) or instruction index to exit at
    // Exits: the pinned loop whose registers the stub writes back first (null: none, or
    // its registers were clobbered by a call and the slots are already up to date).
    const PinnedLoop* loop = nullptr;
  };
  Assembler as_;
  FuncInst* func_;
  CompiledFunc* cf_;
  const CodeWord* code_;
  std::vector<uint32_t> native_at_;
  std::vector<Patch> jumps_;
  std::vector<Patch> exits_;
  std::vector<Patch> loop_exits_;  // conditional jumps out of a pinned loop (JumpTo)
  struct TableEntry {
    size_t field;   // a 32-bit entry of a br_table's jump table
    size_t target;  // instruction index
    size_t table;   // the table's offset (entries are relative to it)
    const PinnedLoop* leaves = nullptr;  // the pinned loop it jumps out of, if any
  };
  std::vector<TableEntry> table_entries_;
  size_t entry_offset_ = 0;
  // Guard mode: memory 0 has the full reservation, so every effective address (32-bit
  // address + 32-bit offset + size < 8 GiB + 16) lands in it, and past `size` it is
  // PROT_NONE: accesses go unchecked and a fault becomes an exit (see OnFault).
  bool guard_ = false;
  std::vector<Patch> fault_sites_;  // (native offset of the access, instruction index)
  std::vector<CodeArena::FaultSite> fault_out_;
  std::vector<CodeArena::CallSite> call_sites_;  // in code order
  std::vector<size_t> self_calls_;  // rel32 fields of recursive calls, patched to the entry
  // Instructions other code jumps to, or where the interpreter may enter: nothing is
  // known about registers there.
  std::vector<bool> label_;
  // The slot whose full value rax holds: `held_` on entry to the current instruction,
  // `rax_holds_` once it is emitted (kNone: none). Lets a result feed the next
  // instruction without a store-to-load round trip.
  static constexpr uint64_t kNone = ~uint64_t{0};
  uint64_t held_ = kNone;
  uint64_t rax_holds_ = kNone;
  // The same for float results in xmm0 (`..._dbl_`: as an f64, else an f32): the slot
  // xmm0 holds on entry to the current instruction, and once it is emitted.
  uint64_t xmm_held_ = kNone;
  bool xmm_held_dbl_ = false;
  uint64_t xmm0_holds_ = kNone;
  bool xmm0_dbl_ = false;
  // Recent results are also kept in a small pool of registers (LRU),
  // so a value consumed a few instructions later is not reloaded right after its store.
  // Slots stay the truth (every result is stored, but see StoreIsDead): the pool only
  // saves reads. Cleared at labels and after any call; a slot written any other way is
  // forgotten.
  // (R15 is callee-saved, but treated like the others: a call clears the pool.)
  // R13 holds the memory size only where accesses are checked inline; in guard mode
  // (every function of the instance alike) it is one more pool register.
  static constexpr Reg kPool[] = {RSI, RDI, R8, R9, R10, R11, R15, R13};
  static constexpr size_t kMaxPoolSize = sizeof(kPool) / sizeof(kPool[0]);
  size_t pool_regs_ = kMaxPoolSize - 1;  // set_guard: kMaxPoolSize
  uint64_t pool_[kMaxPoolSize] = {kNone, kNone, kNone, kNone, kNone, kNone, kNone, kNone};
  uint64_t defined_at_[kMaxPoolSize] = {};
  uint64_t def_clock_ = 0;
  // The pool entry (of the first n) a new value takes: a free one, else the one defined
  // longest ago.
  static size_t PoolVictim(const uint64_t* slots, const uint64_t* defined_at, size_t n) {
    size_t i = 0;
    for (size_t k = 0; k < n; ++k) {
      if (slots[k] == kNone) return k;
      if (defined_at[k] < defined_at[i]) i = k;
    }
    return i;
  }
  int Cached(uint64_t slot) const {
    if (slot == kNone) return -1;
    for (size_t i = 0; i < pool_size_; ++i)
      if (pool_[i] == slot) return static_cast<int>(i);
    return -1;
  }
  void Forget(uint64_t slot) {
    for (uint64_t& p : pool_)
      if (p == slot) p = kNone;
    for (uint64_t& p : fpool_)
      if (p == slot) p = kNone;
    if (held_ == slot) held_ = kNone;
    std::erase_if(known_consts_, [slot](const KnownConst& k) { return k.slot == slot; });
  }
  void ClearCache() {
    for (uint64_t& p : pool_) p = kNone;
    for (uint64_t& p : fpool_) p = kNone;
    held_ = kNone;
    xmm_held_ = kNone;
    known_consts_.clear();
  }
  // Operand slots a constant instruction just wrote (past the function's constant slots,
  // a function with many distinct constants writes the rest where they are used): read
  // as immediates, not back from the slot, until the slot is written or a label.
  struct KnownConst {
    uint64_t slot, value;
  };
  std::vector<KnownConst> known_consts_;
  // Loads slot `slot` into `r` (32 or 64 bits), from a register when one holds it.
  void LoadSlot(Reg r, uint64_t slot, bool w) {
    if (held_ == slot) {
      if (r != RAX) as_.MovRR64(r, RAX);
      return;
    }
    if (int k = Pinned(slot); k >= 0) {
      if (r != PinReg(k)) as_.MovRR64(r, PinReg(k));
      return;
    }
    int c = Cached(slot);
    if (c >= 0) {
      if (r != kPool[c]) as_.MovRR64(r, kPool[c]);
      Consumed(slot);
      return;
    }
    if (uint64_t v; ConstValue(slot, w, &v)) {
      as_.MovImm64(r, v);
      return;
    }
    if (w) as_.Load64(r, Slot(slot)); else as_.Load32(r, Slot(slot));
  }
  // The register that holds slot `slot` right now (rax, a pinned or a pool register), or
  // -1. Reading it there counts as the read that frees an operand's pool register.
  int HeldIn(uint64_t slot) {
    if (held_ == slot) return RAX;
    if (int k = Pinned(slot); k >= 0) return PinReg(k);
    if (int c = Cached(slot); c >= 0) {
      Consumed(slot);
      return kPool[c];
    }
    return -1;
  }
  // An operand-stack slot is read once (wasm pops it): its pool register can go to a
  // value that will be read again. Only a hint: the slot itself keeps the value.
  void Consumed(uint64_t slot) {
    if (slot >= cf_->num_locals + cf_->consts.size()) {
      for (uint64_t& p : pool_)
        if (p == slot) p = kNone;
      for (uint64_t& p : fpool_)
        if (p == slot) p = kNone;
    }
  }

  // f64 results also stay in xmm registers, in a pool of their own managed like the
  // integer one (LRU, cleared at labels and calls, an entry forgotten when its slot is
  // written any other way; the slot is written too). A value read a few instructions
  // after it was computed (nbody's dx, read three times, say) comes from its register,
  // not from the slot it was just stored to. f32 values stay out: rare in practice.
  static constexpr Xmm kFPool[] = {XMM2,  XMM3,  XMM4,  XMM5,  XMM6,  XMM7,  XMM8,
                                   XMM9,  XMM10, XMM11, XMM12, XMM13, XMM14, XMM15};
  static constexpr size_t kFPoolSize = sizeof(kFPool) / sizeof(kFPool[0]);
  uint64_t fpool_[kFPoolSize] = {kNone, kNone, kNone, kNone, kNone, kNone, kNone,
                                 kNone, kNone, kNone, kNone, kNone, kNone, kNone};
  uint64_t fdefined_at_[kFPoolSize] = {};
  // The pool register holding slot `slot`'s f64 value, or -1. Reading it there counts as
  // the read of an operand (see Consumed).
  int FHeldIn(uint64_t slot) {
    for (size_t i = 0; i < kFPoolSize; ++i) {
      if (fpool_[i] == slot) {
        Xmm r = kFPool[i];
        Consumed(slot);
        return r;
      }
    }
    return -1;
  }
  // `src` (xmm0, or xmm1 for a load) holds slot `d`'s f64 value, just written: keep a copy
  // in the pool.
  void FPoolDef(uint64_t d, Xmm src) {
    const size_t i = PoolVictim(fpool_, fdefined_at_, kFPoolSize);
    fdefined_at_[i] = ++def_clock_;
    fpool_[i] = d;
    as_.MovapdRR(kFPool[i], src);
  }
  // xmm0 = the float in slot `slot`, from the pool when it holds it.
  void FloatToXmm0(uint64_t slot, bool dbl) {
    if (int r = dbl ? FHeldIn(slot) : -1; r >= 0) {
      as_.MovapdRR(XMM0, static_cast<Xmm>(r));
    } else {
      as_.MovsdLoad(XMM0, In(slot), dbl);
    }
  }
  // xmm0 = xmm0 (op) the float in slot `slot` (0x2E: ucomis, which only sets the flags).
  void SseWithSlot(uint8_t opc, uint64_t slot, bool dbl) {
    const int r = dbl ? FHeldIn(slot) : -1;
    if (opc == 0x2E) {
      if (r >= 0) as_.UcomisRR(XMM0, static_cast<Xmm>(r), dbl);
      else as_.Ucomis(XMM0, In(slot), dbl);
    } else if (r >= 0) {
      as_.SseRR(opc, XMM0, static_cast<Xmm>(r), dbl);
    } else {
      as_.SseRM(opc, XMM0, In(slot), dbl);
    }
  }
  // `op r, slot` with the slot from a register when one holds it.
  void AluSlot(Assembler::Alu k, bool w, Reg r, uint64_t slot) {
    int c = Cached(slot);
    if (held_ == slot && r != RAX) {
      as_.AluRR(k, w, r, RAX);
    } else if (int p = Pinned(slot); p >= 0) {
      as_.AluRR(k, w, r, PinReg(p));
    } else if (c >= 0) {
      as_.AluRR(k, w, r, kPool[c]);
      Consumed(slot);
    } else if (int32_t imm; ConstImm(slot, w, &imm)) {
      as_.AluRI(AluExt(k), w, r, imm);
    } else {
      as_.AluRM(k, w, r, Slot(slot));
    }
  }
  // Stores rax to slot `d` (unless the store is dead, or `d` is a pinned local: then to
  // its register only); rax (and a pool register) then hold it.
  void DefRax(uint64_t d) {
    if (int k = Pinned(d); k >= 0) {  // its register is its only home inside the loop
      Forget(d);
      rax_holds_ = d;
      as_.MovRR64(PinReg(k), RAX);
      return;
    }
    bool rax_only = false;
    const bool dead = StoreIsDead(d, /*in_gpr=*/true, &rax_only);
    if (!dead) as_.Store64(Slot(d), RAX);
    Forget(d);
    rax_holds_ = d;
    if (dead && rax_only) return;  // nothing reads it anywhere else: no pool copy either
    if (!dead && OnlyACallReads(d)) return;  // a call clears the pool before reading it
    const size_t i = PoolVictim(pool_, defined_at_, pool_size_);
    defined_at_[i] = ++def_clock_;
    as_.MovRR64(kPool[i], RAX);
    pool_[i] = d;
    rax_holds_ = d;
  }
  // *rax_only (when given) is set when the consumer reads the value from rax alone, so it
  // needs no pool copy.
  bool StoreIsDead(uint64_t d, bool in_gpr, bool* rax_only = nullptr);
  bool EqzFeedsBranch(uint64_t d) const;
  bool NextF64OpReads(uint64_t d) const;
  bool OnlyACallReads(uint64_t d) const;
  // The temporary whose eqz the flags (ZF) hold for the br_if right after it (kNone: none).
  uint64_t zf_is_eqz_of_ = kNone;
  bool ReadSoonFromPool(uint64_t d) const;
  bool ReadFromRaxNext(size_t pc, uint64_t slot) const;
  // Dead stores skipped for the next instruction: at its exits, the slot to write back
  // first and the register that then holds it (see StoreIsDead).
  struct Spill {
    uint64_t slot;
    Reg reg;
    bool is_imm = false;  // then the slot gets `imm`, not `reg`
    uint32_t imm = 0;
  };
  std::unordered_map<size_t, Spill> spill_at_;  // by instruction index
  size_t next_pc_ = 0;                           // the instruction after the current one
  // The slot `d` was written without DefRax.
  void Wrote(uint64_t d) {
    Forget(d);
    if (int k = Pinned(d); k >= 0) as_.Load64(PinReg(k), Slot(d));
  }

  // ---- locals pinned in registers through an innermost loop ----
  // A loop's most used locals live in the last pool registers from its head to its last
  // back-edge, loaded by a preamble at the head (where the interpreter and the code
  // before the loop enter; back-edges jump past it). Inside the loop the register is the
  // local's only up-to-date copy: its slot is written back (FlushPinned) wherever
  // anything else may read it (before calls and returns, on every way out of the loop,
  // in exit stubs), and the register is reloaded after C calls and where a call returns.
  static constexpr size_t kMaxPinned = 6;
  struct PinnedLoop {
    size_t head = 0, last = 0;
    uint64_t slots[kMaxPinned] = {};
    // Whether the loop writes the local at all: one it only reads keeps its slot
    // current, so it is never written back.
    bool written[kMaxPinned] = {};
    size_t count = 0;
  };
  std::vector<PinnedLoop> loops_;  // ascending by head
  size_t next_loop_ = 0;
  const PinnedLoop* active_ = nullptr;
  size_t active_body_ = 0;  // native offset of the active loop's body (after the preamble)
  size_t pool_size_ = kMaxPoolSize - 1;
  std::vector<bool> continuation_;
  Reg PinReg(int k) const { return kPool[pool_regs_ - 1 - k]; }
  int Pinned(uint64_t slot) const {
    if (!active_) return -1;
    for (size_t k = 0; k < active_->count; ++k)
      if (active_->slots[k] == slot) return static_cast<int>(k);
    return -1;
  }
  bool pinned_valid_ = true;  // false from a call until ReloadPinned
  void ReloadPinned() {
    pinned_valid_ = true;
    if (!active_) return;
    for (size_t k = 0; k < active_->count; ++k) as_.Load64(PinReg(static_cast<int>(k)), Slot(active_->slots[k]));
  }
  void FlushPinned(const PinnedLoop* loop) {
    if (!loop) return;
    for (size_t k = 0; k < loop->count; ++k)
      if (loop->written[k]) as_.Store64(SlotMem(loop->slots[k]), PinReg(static_cast<int>(k)));
  }
  void FlushPinned() {
    if (pinned_valid_) FlushPinned(active_);
  }
  // What an exit taken here must write back.
  const PinnedLoop* PinnedAtExit() const { return pinned_valid_ ? active_ : nullptr; }
  // What a jump from here to instruction `target` must write back: the active loop's
  // registers if it leaves the loop.
  const PinnedLoop* LeftBy(size_t target) const {
    return active_ && (target < active_->head || target > active_->last) ? PinnedAtExit() : nullptr;
  }
  // Slot `slot` as a memory operand to read: a pinned local's register is written back
  // to it first.
  Mem In(uint64_t slot) {
    if (int k = Pinned(slot); k >= 0) as_.Store64(SlotMem(slot), PinReg(k));
    return Slot(slot);
  }
  void FindLoops();
  void EnterLoops(size_t pc);
  // Calls f(pc, op, instruction, length) for each instruction in order while f returns
  // true; false when an instruction is not known (the translation then gives up).
  template <class F>
  bool Walk(F f) const {
    return WalkCode(*cf_, f);
  }
  // The op of the instruction at `pc` when control reaches it only from the instruction
  // before (no label there), else IOp::kCount.
  IOp UnlabelledOpAt(size_t pc) const {
    if (pc >= cf_->code.size() || label_[pc]) return IOp::kCount;
    auto it = Ops().by_handler.find(code_[pc]);
    return it == Ops().by_handler.end() ? IOp::kCount : it->second;
  }
  // xmm0 = rax, as the f64 in slot `slot` for the next instruction (see the sse lambda).
  void RaxToXmm0(uint64_t slot) {
    as_.MovqToXmm(XMM0, RAX);
    xmm0_holds_ = slot;
    xmm0_dbl_ = true;
  }
  void FindLabels();
  bool IsConstSlot(uint64_t slot) const {
    return slot >= cf_->num_locals && slot < cf_->num_locals + cf_->consts.size();
  }
  // Frame slot `i` as a memory operand. Constant slots are written only by StoreConsts,
  // so any other use of one is a read: the native entry must then store the constants
  // (see Run).
  Mem Slot(uint64_t i) {
    if (IsConstSlot(i)) const_read_ = true;
    return SlotMem(i);
  }
  bool const_read_ = false;
  // (Not rax as the scratch register: it may hold what an exit hands the interpreter.)
  void StoreConsts(Reg scratch = RCX);
  // Whether `slot` is one of the function's constant slots (written once on entry, never
  // changed), and its value as a `w`-bit operand (zero-extended when 32-bit).
  bool ConstValue(uint64_t slot, bool w, uint64_t* value) const {
    uint64_t v;
    if (IsConstSlot(slot)) {
      v = cf_->consts[slot - cf_->num_locals];
    } else if (auto k = std::find_if(known_consts_.begin(), known_consts_.end(),
                                     [slot](const KnownConst& c) { return c.slot == slot; });
               k != known_consts_.end()) {
      v = k->value;
    } else {
      return false;
    }
    *value = w ? v : static_cast<uint32_t>(v);
    return true;
  }
  void DivideUnsignedByConstant(bool w, uint64_t d, bool rem);
  // Whether `slot` is one of the function's constant slots (written once on entry, never
  // changed), and as what immediate it can be used in a `w`-bit operation.
  bool ConstImm(uint64_t slot, bool w, int32_t* imm) const {
    uint64_t v;
    if (!ConstValue(slot, w, &v)) return false;
    if (w && static_cast<int64_t>(v) != static_cast<int32_t>(v)) return false;
    *imm = static_cast<int32_t>(v);
    return true;
  }
  // Stores the 64-bit value `v` to `m`: as a sign-extended imm32 when it fits, else
  // through `scratch`.
  void StoreValue(Mem m, uint64_t v, Reg scratch) {
    if (static_cast<int64_t>(v) == static_cast<int32_t>(v)) {
      as_.StoreImm32(m, static_cast<int32_t>(v), true);
    } else {
      as_.MovImm64(scratch, v);
      as_.Store64(m, scratch);
    }
  }

  static uint8_t AluExt(Assembler::Alu k) {
    switch (k) {
      case Assembler::kAdd: return 0;
      case Assembler::kOr: return 1;
      case Assembler::kAnd: return 4;
      case Assembler::kSub: return 5;
      case Assembler::kXor: return 6;
      default: return 7;  // cmp
    }
  }
};

void Translator::FindLabels() {
  const size_t n = cf_->code.size();
  label_.assign(n + 1, false);
  label_[0] = true;
  auto mark = [&](size_t pc, CodeWord rel) {
    size_t t = static_cast<size_t>(static_cast<int64_t>(pc) + BranchOffset(rel));
    if (t < n) label_[t] = true;
  };
  Walk([&](size_t pc, IOp op, const CodeWord* ins, size_t len) {
    if (CmpOfBranch(op) != IOp::kCount) mark(pc, ins[3]);
    switch (op) {
      case IOp::kBr: mark(pc, ins[1]); break;
      case IOp::kBrIf: case IOp::kBrUnless: mark(pc, ins[2]); break;
      case IOp::kBrTable:
        for (uint64_t i = 0; i <= ins[2]; ++i) mark(pc, ins[3 + i]);
        break;
      default: break;
    }
    // The interpreter resumes native code after calls.
    if ((op == IOp::kCall || op == IOp::kCallIndirect) && pc + len <= n) label_[pc + len] = true;
    return true;
  });
}

void Translator::FindLoops() {
  const auto& ops = Ops();
  const size_t n = cf_->code.size();
  continuation_.assign(n + 1, false);
  std::vector<size_t> last(n, 0);
  std::vector<bool> head(n, false);
  struct Ins { size_t pc; IOp op; };
  std::vector<Ins> list;
  bool known = Walk([&](size_t pc, IOp op, const CodeWord* ins, size_t len) {
    list.push_back({pc, op});
    auto back = [&](CodeWord rel) {
      if (BranchOffset(rel) > 0) return;
      size_t t = static_cast<size_t>(static_cast<int64_t>(pc) + BranchOffset(rel));
      head[t] = true;
      last[t] = std::max(last[t], pc);
    };
    if (CmpOfBranch(op) != IOp::kCount) back(ins[3]);
    if (op == IOp::kBr) back(ins[1]);
    if (op == IOp::kBrIf || op == IOp::kBrUnless) back(ins[2]);
    if (op == IOp::kBrTable)
      for (uint64_t i = 0; i <= ins[2]; ++i) back(ins[3 + i]);
    if ((op == IOp::kCall || op == IOp::kCallIndirect) && pc + len <= n) continuation_[pc + len] = true;
    return true;
  });
  if (!known) return;
  for (size_t i = 0; i < list.size(); ++i) {
    size_t t = list[i].pc;
    if (!head[t]) continue;
    // Innermost only: no other loop head inside.
    bool inner = true;
    std::unordered_map<uint64_t, uint32_t> uses;
    // Locals some op reads as a memory operand: pinning them would cost a write-back per
    // read (In), more than it saves.
    std::unordered_set<uint64_t> read_from_memory;
    // Every op writes at most its first operand (`dst`), calls only their callee's frame:
    // a local never named first in the loop is never written there. (Ops whose first
    // operand is read count as writes: that only costs a write-back.)
    std::unordered_set<uint64_t> named_first;
    for (size_t j = i; j < list.size() && list[j].pc <= last[t]; ++j) {
      if (j > i && head[list[j].pc]) inner = false;
      const CodeWord* ins = code_ + list[j].pc;
      if (list[j].pc + 1 < n) named_first.insert(ins[1]);
      IOp op = list[j].op;
      const OpInfo& oi = ops.info[static_cast<size_t>(op)];
      size_t nslots = 0;
      switch (oi.kind) {
        case Kind::kUn: nslots = 2; break;
        case Kind::kBin: nslots = 3; break;
        case Kind::kLoad: case Kind::kStore: nslots = 2; break;
        case Kind::kCtl:
          if (CmpOfBranch(op) != IOp::kCount || op == IOp::kCopy || op == IOp::kRefIsNull) nslots = 2;
          else if (op == IOp::kBrIf || op == IOp::kBrUnless) nslots = 1;
          else if (op == IOp::kSelect) nslots = 4;
          break;
      }
      const bool memory = ops.info[static_cast<size_t>(oi.base)].memory_operands ||
                          op == IOp::kSelect || op == IOp::kRefIsNull;
      for (size_t k = 1; k <= nslots; ++k) {
        if (ins[k] >= cf_->num_locals) continue;
        uses[ins[k]]++;
        if (memory && k >= 2) read_from_memory.insert(ins[k]);
      }
    }
    if (!inner) continue;
    std::vector<std::pair<uint32_t, uint64_t>> ranked;
    for (auto [slot, count] : uses)
      if (count >= 3 && !read_from_memory.contains(slot)) ranked.push_back({count, slot});
    std::sort(ranked.begin(), ranked.end(), [](auto& a, auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    PinnedLoop loop;
    loop.head = t;
    loop.last = last[t];
    for (size_t k = 0; k < ranked.size() && k < kMaxPinned; ++k) {
      loop.slots[loop.count] = ranked[k].second;
      loop.written[loop.count++] = named_first.contains(ranked[k].second);
    }
    if (loop.count) loops_.push_back(loop);
  }
}

// At each instruction: leave a pinned loop past its last back-edge, enter one at its head
// (preamble), and reload pinned registers where a call inside the loop returns.
void Translator::EnterLoops(size_t pc) {
  if (active_ && pc > active_->last) {
    active_ = nullptr;
    pool_size_ = pool_regs_;
  }
  if (!active_ && next_loop_ < loops_.size() && loops_[next_loop_].head == pc) {
    active_ = &loops_[next_loop_++];
    ClearCache();
    pool_size_ = pool_regs_ - active_->count;
    ReloadPinned();
    active_body_ = as_.size();
    return;
  }
  while (next_loop_ < loops_.size() && loops_[next_loop_].head < pc) ++next_loop_;
  if (active_ && continuation_[pc]) ReloadPinned();
}

void Translator::EmitPrologue() {
  // Entry from other native code: align the stack, zero the declared locals (the
  // interpreter does the same in its call path). The constants are stored only where
  // something reads them: see Run.
  entry_offset_ = as_.size();
  as_.AluRI(5, true, RSP, 8);  // sub rsp, 8
  const uint32_t nzero = cf_->num_locals - cf_->num_params;
  std::vector<bool> set_first = LocalsSetBeforeRead();
  uint32_t needed = 0;
  for (uint32_t i = cf_->num_params; i < cf_->num_locals; ++i) needed += !set_first[i];
  if (needed > 0) as_.XorRR32(RAX);
  if (needed > 16) {
    as_.Lea(RDI, SlotMem(cf_->num_params));
    as_.MovImm64(RCX, nzero);
    as_.Byte(0xF3); as_.Byte(0x48); as_.Byte(0xAB);  // rep stosq
  } else {
    for (uint32_t i = cf_->num_params; i < cf_->num_locals; ++i)
      if (!set_first[i]) as_.Store64(SlotMem(i), RAX);
  }
}

// Per local slot, whether every run of the function writes it before anything reads it:
// it does in the straight-line code from the entry (up to the first label or an
// instruction other than a plain numeric op, load, store, copy, constant or global
// access), which every run goes through. Its zeroing at entry is dead: an exit there
// hands the interpreter an instruction that writes it or reads only what was written.
std::vector<bool> Translator::LocalsSetBeforeRead() const {
  std::vector<bool> set(cf_->num_locals, false), read(cf_->num_locals, false);
  auto reads = [&](uint64_t slot) {
    if (slot < cf_->num_locals && !set[slot]) read[slot] = true;
  };
  auto writes = [&](uint64_t slot) {
    if (slot < cf_->num_locals && !read[slot]) set[slot] = true;
  };
  Walk([&](size_t pc, IOp op, const CodeWord* ins, size_t) {
    if (pc > 0 && label_[pc]) return false;
    const Kind kind = Ops().info[static_cast<size_t>(op)].kind;
    if (kind == Kind::kUn || kind == Kind::kLoad) {
      reads(ins[2]);
      writes(ins[1]);
    } else if (kind == Kind::kBin) {
      reads(ins[2]);
      reads(ins[3]);
      writes(ins[1]);
    } else if (kind == Kind::kStore) {
      reads(ins[1]);
      reads(ins[2]);
    } else if (op == IOp::kCopy) {
      reads(ins[2]);
      writes(ins[1]);
    } else if (op == IOp::kConst || op == IOp::kConst32 || op == IOp::kGlobalGet) {
      writes(ins[1]);
    } else if (op == IOp::kGlobalSet) {
      reads(ins[2]);
    } else {
      return false;
    }
    return true;
  });
  return set;
}

// Writes the constant slots (as the interpreter's call path does).
void Translator::StoreConsts(Reg scratch) {
  for (size_t k = 0; k < cf_->consts.size(); ++k) {
    StoreValue(SlotMem(cf_->num_locals + k), cf_->consts[k], scratch);
  }
}

bool Translator::Run() {
  if (static_cast<uint64_t>(cf_->frame_slots) * 8 > (1u << 30)) return false;
  const auto& ops = Ops();
  const size_t n = cf_->code.size();
  native_at_.assign(n, kNoNative);
  as_.bytes().reserve(n * 6 + 256);
  FindLabels();
  FindLoops();
  EmitPrologue();  // falls through into the body

  bool translated = Walk([&](size_t pc, IOp op, const CodeWord* ins, size_t len) -> bool {
    native_at_[pc] = static_cast<uint32_t>(as_.size());
    next_pc_ = pc + len;
    held_ = rax_holds_;
    rax_holds_ = kNone;
    xmm_held_ = xmm0_holds_;
    xmm_held_dbl_ = xmm0_dbl_;
    xmm0_holds_ = kNone;
    if (label_[pc]) ClearCache();
    EnterLoops(pc);
    const OpInfo& oi = ops.info[static_cast<size_t>(op)];
    IOp base = oi.base;
    switch (oi.kind) {
      case Kind::kUn:
      case Kind::kBin:
        if (!Numeric(base, ins, pc)) return false;
        break;
      case Kind::kLoad:
        Load(base, ins, pc);
        break;
      case Kind::kStore:
        Store(base, ins, pc);
        break;
      case Kind::kCtl: {
        IOp cmp = CmpOfBranch(op);
        if (cmp != IOp::kCount) {
          bool w = Is64(op);
          int32_t imm;
          // The left operand where it is (a local pinned in a register, say), else in rax.
          int left = HeldIn(ins[1]);
          if (left < 0) {
            LoadSlot(RAX, ins[1], w);
            left = RAX;
          }
          if (ConstImm(ins[2], w, &imm)) as_.AluRI(7, w, static_cast<Reg>(left), imm);
          else AluSlot(Assembler::kCmp, w, static_cast<Reg>(left), ins[2]);
          Branch(pc, BranchOffset(ins[3]), CondOf(cmp), false);
          break;
        }
        switch (op) {
          case IOp::kBr:
            Branch(pc, BranchOffset(ins[1]), kE, true);
            break;
          case IOp::kBrIf:
          case IOp::kBrUnless:
            if (zf_is_eqz_of_ == ins[1]) {
              // eqz (just before) set ZF for "the eqz is 1". A taken backward branch's
              // interrupt exit hands the interpreter the eqz result it implies.
              zf_is_eqz_of_ = kNone;
              const bool taken_on_one = op == IOp::kBrIf;
              if (BranchOffset(ins[2]) <= 0) spill_at_[pc] = {ins[1], RAX, true, taken_on_one ? 1u : 0u};
              Branch(pc, BranchOffset(ins[2]), taken_on_one ? kE : kNE, false);
              break;
            }
            if (held_ == ins[1]) {
              as_.TestRR(false, RAX, RAX);
            } else if (int k = Pinned(ins[1]); k >= 0) {
              as_.TestRR(false, PinReg(k), PinReg(k));
            } else if (int c = Cached(ins[1]); c >= 0) {
              as_.TestRR(false, kPool[c], kPool[c]);
            } else {
              as_.AluMI(7, false, Slot(ins[1]), 0);
            }
            Branch(pc, BranchOffset(ins[2]), op == IOp::kBrIf ? kNE : kE, false);
            break;
          case IOp::kBrTable:
            BrTable(ins, pc);
            break;
          case IOp::kReturn:
            FlushPinned();  // the results may be in slots a pinned local holds
            as_.AluRI(0, true, RSP, 8);  // add rsp, 8
            as_.Ret();
            break;
          case IOp::kCopy:
            if (int p = Pinned(ins[1]); p >= 0) {  // straight into its register
              LoadSlot(PinReg(p), ins[2], true);
              Forget(ins[1]);
              break;
            }
            if (int r = HeldIn(ins[2]); r >= 0 && r != RAX && ins[1] < cf_->num_locals) {
              // Into a local from a register (a pinned local, say): one store.
              as_.Store64(Slot(ins[1]), static_cast<Reg>(r));
              Forget(ins[1]);
              break;
            }
            LoadSlot(RAX, ins[2], true);
            DefRax(ins[1]);
            break;
          case IOp::kConst:
          case IOp::kConst32: {
            const uint64_t v = op == IOp::kConst ? Imm64(ins + 2) : ins[2];
            StoreValue(Slot(ins[1]), v, RAX);
            Wrote(ins[1]);
            if (ins[1] >= cf_->num_locals) known_consts_.push_back({ins[1], v});
            if (op == IOp::kConst && NextF64OpReads(ins[1])) {  // in xmm0 too, for it
              as_.MovImm64(RAX, v);
              RaxToXmm0(ins[1]);
            }
            break;
          }
          case IOp::kCall:
            BeforeCall();
            Call(func_->instance->funcs[ins[1]], ins[2], pc, pc + 3);
            break;
          case IOp::kCallIndirect:
            BeforeCall();
            ResolveIndirectInline(func_->instance->tables[ins[1]], ins[3], static_cast<uint32_t>(ins[2]), pc);
            CallNative(nullptr, ins[4], pc, pc + 5);
            break;
          case IOp::kSelect:
            as_.Load64(RCX, In(ins[2]));
            as_.AluMI(7, false, In(ins[4]), 0);
            as_.CmovM(kE, true, RCX, In(ins[3]));
            as_.Store64(Slot(ins[1]), RCX);
            Wrote(ins[1]);
            break;
          case IOp::kGlobalGet:
            as_.MovImm64(RCX, reinterpret_cast<uint64_t>(&func_->instance->globals[ins[2]]->value));
            as_.Load64(RAX, Mem{RCX, 0});
            DefRax(ins[1]);
            break;
          case IOp::kGlobalSet:
            as_.MovImm64(RCX, reinterpret_cast<uint64_t>(&func_->instance->globals[ins[1]]->value));
            LoadSlot(RAX, ins[2], true);
            as_.Store64(Mem{RCX, 0}, RAX);
            rax_holds_ = held_ == ins[2] ? held_ : kNone;
            break;
          case IOp::kMemorySize:
            LoadMemSize(RAX);
            as_.ShiftImm(5, true, RAX, 16);
            DefRax(ins[1]);
            break;
          case IOp::kMemoryFill:
          case IOp::kMemoryCopy:
            BeforeCall();
            as_.MovRR64(RDI, kMem);
            LoadMemSize(RSI);
            as_.Load64(RDX, Slot(ins[1]));
            as_.Load64(RCX, Slot(ins[2]));
            as_.Load64(R8, Slot(ins[3]));
            CallC(op == IOp::kMemoryFill ? reinterpret_cast<const void*>(&MemFill)
                                         : reinterpret_cast<const void*>(&MemCopy));
            ClearCache();
            ReloadPinned();
            as_.TestRR(false, RAX, RAX);
            ExitIf(kE, pc);
            break;
          case IOp::kRefIsNull:
            as_.XorRR32(RAX);
            as_.AluMI(7, true, In(ins[2]), 0);
            as_.Setcc(kE, RAX);
            DefRax(ins[1]);
            break;
          default:
            // Everything else (traps, memory.grow/init, table ops, drops) is rare: the
            // interpreter runs it.
            ExitAlways(pc);
            break;
        }
        break;
      }
    }
    if (active_ && pc == active_->last) FlushPinned();  // falling out of the loop
    return true;
  });
  if (!translated) return false;
  // Conditional jumps and br_table entries out of a pinned loop: write its registers
  // back, then jump.
  auto write_back_and_jump = [&](const PinnedLoop* loop, size_t target) {
    size_t stub = as_.size();
    FlushPinned(loop);
    jumps_.push_back({as_.Jmp(), target});
    return stub;
  };
  for (const Patch& e : loop_exits_) as_.PatchRel32(e.field, write_back_and_jump(e.loop, e.target));
  for (const TableEntry& e : table_entries_) {
    if (!e.leaves) continue;
    size_t stub = write_back_and_jump(e.leaves, e.target);
    int32_t rel = static_cast<int32_t>(static_cast<int64_t>(stub) - static_cast<int64_t>(e.table));
    std::memcpy(&as_.bytes()[e.field], &rel, 4);
  }
  // Resolve jumps between instructions, and br_table entries.
  for (const Patch& j : jumps_) {
    if (j.target >= n || native_at_[j.target] == kNoNative) return false;
    as_.PatchRel32(j.field, native_at_[j.target]);
  }
  for (const TableEntry& e : table_entries_) {
    if (e.leaves) continue;  // through its write-back stub, placed above
    if (e.target >= n || native_at_[e.target] == kNoNative) return false;
    int32_t rel = static_cast<int32_t>(static_cast<int64_t>(native_at_[e.target]) -
                                       static_cast<int64_t>(e.table));
    std::memcpy(&as_.bytes()[e.field], &rel, 4);
  }
  // The constant slots: native code mostly uses constants as immediates. If it reads one
  // from its slot, native callers enter through a block that stores them first;
  // otherwise only the exits store them, for the interpreter (which may have been
  // entered natively, without them).
  if (const_read_ && !cf_->consts.empty()) {
    size_t stores = as_.size();
    StoreConsts();
    as_.PatchRel32(as_.Jmp(), entry_offset_);
    entry_offset_ = stores;
  }
  for (size_t field : self_calls_) as_.PatchRel32(field, entry_offset_);
  EmitExits();
  return true;
}

// Out-of-line exit stubs, one per exiting instruction: load what the interpreter needs
// and leave through the shared exit path (JitState::exit_path).
void Translator::EmitExits() {
  std::unordered_map<size_t, size_t> stub_at;
  const auto& ops = Ops();
  std::vector<Patch> all = exits_;
  for (const Patch& f : fault_sites_) all.push_back({kNone, f.target, f.loop});
  // Where the entry does not store the constants, the interpreter still needs them: the
  // stubs end in one shared tail that stores them (rcx and rdx are taken by then).
  size_t consts_tail = kNone;
  if (!const_read_ && !cf_->consts.empty() && !all.empty()) {
    consts_tail = as_.size();
    StoreConsts(RSI);
    as_.JmpMem(STATE_FIELD(exit_path));
  }
  // One stub per instruction and per whether pinned registers are written back.
  auto key = [](const Patch& e) { return e.target * 2 + (e.loop != nullptr); };
  for (const Patch& e : all) {
    auto it = stub_at.find(key(e));
    if (it == stub_at.end()) {
      size_t at = as_.size();
      const CodeWord* ins = code_ + e.target;
      const OpInfo& oi = ops.info[static_cast<size_t>(ops.by_handler.at(ins[0]))];
      FlushPinned(e.loop);
      if (auto sp = spill_at_.find(e.target); sp != spill_at_.end()) {  // the interpreter reads it
        if (sp->second.is_imm) {
          as_.StoreImm32(Slot(sp->second.slot), static_cast<int32_t>(sp->second.imm), true);
        } else {
          as_.Store64(Slot(sp->second.slot), sp->second.reg);
        }
      }
      // The interpreter's accumulator variants read the previous result from a register:
      // give it the value (which is also in the operand's slot).
      if (oi.acc_a) as_.Load64(RAX, Slot(ins[oi.kind == Kind::kStore ? 1 : 2]));
      if (oi.acc_v) as_.Load64(RAX, Slot(ins[2]));
      as_.MovImm64(RCX, reinterpret_cast<uint64_t>(ins));
      as_.MovImm64(RDX, reinterpret_cast<uint64_t>(func_));
      if (consts_tail != kNone) {
        as_.PatchRel32(as_.Jmp(), consts_tail);
      } else {
        as_.JmpMem(STATE_FIELD(exit_path));
      }
      it = stub_at.emplace(key(e), at).first;
    }
    if (e.field != kNone) as_.PatchRel32(e.field, it->second);
  }
  for (const Patch& f : fault_sites_)
    fault_out_.push_back({static_cast<uint32_t>(f.field), static_cast<uint32_t>(stub_at.at(key(f)))});
}

void Translator::Call(FuncInst* callee, uint64_t fp_off, size_t pc, size_t ret) {
  if (callee->is_host()) {
    CallHost(callee, fp_off, pc, ret);
    return;
  }
  if (callee->instance != func_->instance) {
    ExitAlways(pc);  // calls into other instances go through the interpreter
    return;
  }
  CallNative(callee, fp_off, pc, ret);
}

// A host function called from native code, with the interpreter's bookkeeping: the
// frame and machine stack pointer published (if the host calls back into wasm, the
// Frames of the calls leading here are written from them), the free-slot mark synced,
// memory size reloaded after (the host may grow it). A trap the host returns is parked
// in JitState::host_trap and raised by the interpreter after the exit.
// A host function with a leaf form (HostLeafPtr) is called bare first: it needs none of
// that bookkeeping, since it never calls back into wasm and its trap takes the same exit.
// Only when it declines does the full call follow.
void Translator::CallHost(FuncInst* callee, uint64_t fp_off, size_t pc, size_t ret) {
  // No interrupt check, as in the interpreter (see do_call in interp/dispatch.cc).
  size_t leaf_done = kNone;
  if (callee->host_leaf != nullptr && func_->instance->memories.size() == 1) {
    as_.MovImm64(RDI, reinterpret_cast<uint64_t>(callee->user_data));
    as_.MovRR64(RSI, kMem);
    LoadMemSize(RDX);
    as_.Lea(RCX, Slot(fp_off));
    as_.Load64(R8, STATE_FIELD(host_trap));
    CallC(reinterpret_cast<const void*>(callee->host_leaf));
    as_.TestRR(false, RAX, RAX);
    static_assert(kHostLeafTrapped == 0 && kHostLeafDone > 0 && kHostLeafDeclined < 0);
    ExitIf(kE, pc);
    leaf_done = as_.Jcc(kG);
  }
  as_.Store64(STATE_FIELD(fp), kFp);
  as_.Store64(STATE_FIELD(host_rsp), RSP);
  as_.MovRR64(RDI, kState);
  as_.MovImm64(RSI, reinterpret_cast<uint64_t>(callee));
  as_.Lea(RDX, Slot(fp_off));
  as_.Lea(RCX, Slot(cf_->frame_slots));
  as_.Load64(R8, STATE_FIELD(fsp));
  as_.MovImm64(R9, reinterpret_cast<uint64_t>(func_->instance));
  CallC(reinterpret_cast<const void*>(&HostCall));
  CallSiteHere(ret, 0);  // the host's caller keeps its frame
  if (!func_->instance->memories.empty() && !guard_) {  // the host may have grown it
    as_.MovImm64(RCX, reinterpret_cast<uint64_t>(&func_->instance->memories[0]->size));
    as_.Load64(kMemSize, Mem{RCX, 0});
  }
  as_.TestRR(false, RAX, RAX);
  ExitIf(kE, pc);
  if (leaf_done != kNone) as_.PatchRel32(leaf_done, as_.size());
}

namespace {

// A multiplier m < 2^bits and a shift s with floor(n * m / 2^(bits + s)) == floor(n / d)
// for every n < 2^n_bits, if one exists: m = ceil(2^(bits + s) / d) overshoots 1/d by
// e = m * d - 2^(bits + s) (0 <= e < d), and the product's error n * e / 2^(bits + s)
// stays below what would carry it past the next multiple of d while
// e * (2^n_bits - 1) < 2^(bits + s) (Granlund and Montgomery 1994, theorem 4.2).
bool SimpleReciprocal(int bits, int n_bits, uint64_t d, uint64_t* m, int* s) {
  using u128 = unsigned __int128;
  for (int shift = 0; shift < bits; ++shift) {
    const u128 p = u128{1} << (bits + shift);
    const u128 mm = (p + d - 1) / d;
    if (mm >> bits) return false;  // grows with the shift
    if ((mm * d - p) * ((u128{1} << n_bits) - 1) < p) {
      *m = static_cast<uint64_t>(mm);
      *s = shift;
      return true;
    }
  }
  return false;
}

}  // namespace

// rax = rax / d (or rax % d) for a constant d != 0, unsigned and `w` bits wide, without
// a div instruction (tens of cycles): a shift or mask for powers of two, else a multiply
// by a fixed-point reciprocal. As compilers do, the cheapest exact form first:
//  - q = mulhi(m, n) >> s when such an m fits in a register (SimpleReciprocal; 10 is one);
//  - for an even d = d' * 2^k, the same for d' on the dividend shifted right by k, which
//    has k bits fewer (1e9 = 1953125 * 2^9);
//  - else Granlund and Montgomery's round-up form ("Division by invariant integers using
//    multiplication", 1994, figure 4.1), exact for every dividend:  l = ceil(log2 d),
//    m = floor(2^N (2^l - d) / d) + 1,  t = mulhi(m, n),  q = (t + ((n - t) >> 1)) >> (l - 1).
void Translator::DivideUnsignedByConstant(bool w, uint64_t d, bool rem) {
  const int bits = w ? 64 : 32;
  if ((d & (d - 1)) == 0) {
    int k = std::countr_zero(d);
    if (!rem) {
      if (k != 0) as_.ShiftImm(5, w, RAX, static_cast<uint8_t>(k));  // shr
    } else if (!w || d - 1 <= 0x7FFFFFFFu) {
      as_.AluRI(4, w, RAX, static_cast<int32_t>(static_cast<uint32_t>(d - 1)));  // and
    } else {
      as_.MovImm64(RCX, d - 1);
      as_.AluRR(Assembler::kAnd, w, RAX, RCX);
    }
    return;
  }
  uint64_t m;
  int s;
  const int k = std::countr_zero(d);
  int pre_shift = -1;
  if (SimpleReciprocal(bits, bits, d, &m, &s)) {
    pre_shift = 0;
  } else if (k > 0 && SimpleReciprocal(bits, bits - k, d >> k, &m, &s)) {
    pre_shift = k;
  }
  as_.MovRR64(RCX, RAX);      // n
  if (pre_shift >= 0) {
    if (pre_shift > 0) as_.ShiftImm(5, w, RAX, static_cast<uint8_t>(pre_shift));
    as_.MovImm64(RDX, m);
    as_.MulR(w, RDX);         // rdx = mulhi(m, n >> k)
    as_.MovRR64(RAX, RDX);
    if (s > 0) as_.ShiftImm(5, w, RAX, static_cast<uint8_t>(s));  // q
  } else {
    const int l = 64 - std::countl_zero(d - 1);  // ceil(log2 d), as d > 1
    using u128 = unsigned __int128;
    const u128 two_n = u128{1} << bits;
    m = static_cast<uint64_t>(two_n * ((u128{1} << l) - d) / d + 1);
    as_.MovImm64(RAX, m);
    as_.MulR(w, RCX);         // rdx = t = mulhi(m, n)
    as_.MovRR64(RAX, RCX);
    as_.AluRR(Assembler::kSub, w, RAX, RDX);
    as_.ShiftImm(5, w, RAX, 1);
    as_.AluRR(Assembler::kAdd, w, RAX, RDX);
    if (l > 1) as_.ShiftImm(5, w, RAX, static_cast<uint8_t>(l - 1));  // q
  }
  if (!rem) return;
  as_.MovImm64(RDX, d);       // n - q * d
  as_.OpRR(w, {0x0F, 0xAF}, RAX, RDX);  // imul rax, rdx
  as_.AluRR(Assembler::kSub, w, RCX, RAX);
  as_.MovRR64(RAX, RCX);
}

// Whether eqz's result `d` (a temporary) is read only by the br_if or br_unless right
// after it, which is no label: eqz then only sets the flags and the branch tests ZF, one
// test-and-jump instead of test, setcc, store and test again. Nothing else reads `d`: a
// wasm operand is popped once.
bool Translator::EqzFeedsBranch(uint64_t d) const {
  if (d < cf_->num_locals || IsConstSlot(d)) return false;
  const IOp op = UnlabelledOpAt(next_pc_);
  return (op == IOp::kBrIf || op == IOp::kBrUnless) && code_[next_pc_ + 1] == d;
}

// Whether the next instruction is f64 arithmetic reading `d` (which then takes it from
// xmm0 instead of from the slot just written: see the sse lambda in InlineBin).
bool Translator::NextF64OpReads(uint64_t d) const {
  const IOp op = UnlabelledOpAt(next_pc_);
  if (op == IOp::kCount) return false;
  switch (Ops().info[static_cast<size_t>(op)].base) {
    case IOp::kF64Add: case IOp::kF64Sub: case IOp::kF64Mul: case IOp::kF64Div:
      return code_[next_pc_ + 2] == d || code_[next_pc_ + 3] == d;
    default:
      return false;
  }
}

// Whether temporary `d` is an argument of a call a few instructions on (no label in
// between) and no instruction before that call names it: the call reads it from its slot
// (every call clears the pool first), so a pool copy would be wasted.
bool Translator::OnlyACallReads(uint64_t d) const {
  if (d < cf_->num_locals || IsConstSlot(d)) return false;
  const auto& ops = Ops();
  for (size_t pc = next_pc_, step = 0; step < 6 && pc < cf_->code.size() && !label_[pc]; ++step) {
    auto it = ops.by_handler.find(code_[pc]);
    if (it == ops.by_handler.end()) return false;
    const CodeWord* ins = code_ + pc;
    const size_t len = Length(it->second, ins);
    if (len == 0) return false;
    if (it->second == IOp::kCall) return d >= ins[2];
    for (size_t k = 1; k < len; ++k)
      if (ins[k] == d) return false;
    pc += len;
  }
  return false;
}

// Whether the result just computed into rax for operand-stack slot `d` need not be
// stored. A wasm operand is read once (its consumer pops it), so when the next instruction
// is its consumer, reads it only through registers (LoadSlot/AluSlot: rax or the pool
// register DefRax puts it in) and cannot be reached from anywhere else (not a label),
// the slot is never read again. The interpreter reads it only if that consumer exits:
// consumers that can exit (loads, stores: bounds faults) record where the value is at
// their exits, and the exit stub writes it back first. Backward branches are left out
// (their interrupt check exits with the operands in unknown registers).
bool Translator::StoreIsDead(uint64_t d, bool in_gpr, bool* rax_only) {
  if (d < cf_->num_locals || IsConstSlot(d)) return false;  // locals and constants
  const size_t next = next_pc_;
  const IOp next_op = UnlabelledOpAt(next);
  if (next_op == IOp::kCount) return false;
  const CodeWord* ins = code_ + next;
  const OpInfo& oi = Ops().info[static_cast<size_t>(next_op)];
  const IOp op = oi.base;
  // Float arithmetic reads an operand from xmm0 when the float op just before left it
  // there (see the sse lambda in InlineBin).
  switch (op) {
    case IOp::kF64Add: case IOp::kF64Sub: case IOp::kF64Mul: case IOp::kF64Div:
    case IOp::kF32Add: case IOp::kF32Sub: case IOp::kF32Mul: case IOp::kF32Div: {
      const bool dbl = op == IOp::kF64Add || op == IOp::kF64Sub || op == IOp::kF64Mul ||
                       op == IOp::kF64Div;
      return xmm0_holds_ == d && xmm0_dbl_ == dbl && (ins[2] == d || ins[3] == d);
    }
    default: break;
  }
  // The rest read it from rax or the pool register DefRax put it in; all but a
  // compare-and-branch's right operand (its left operand is loaded into rax first) read
  // it from rax before anything writes rax (InlineBin's alu, shift, mul and compares,
  // InlineUn, br_if's test, br_table's index, global.set), so *rax_only.
  if (!in_gpr) return false;
  if (IOp cmp = CmpOfBranch(op); cmp != IOp::kCount) {
    if (rax_only) *rax_only = ins[2] != d;
    return (ins[1] == d || ins[2] == d) && BranchOffset(ins[3]) > 0;
  }
  bool dead = false;
  switch (op) {
    case IOp::kBrIf: case IOp::kBrUnless:
      dead = ins[1] == d && BranchOffset(ins[2]) > 0;
      break;
    case IOp::kBrTable:  // (the switch of an interpreter loop)
      dead = ins[1] == d;
      for (uint64_t i = 0; i <= ins[2]; ++i) dead = dead && BranchOffset(ins[3 + i]) > 0;
      break;
    case IOp::kGlobalSet:  // [global value]: as a function restores its stack pointer
      dead = ins[2] == d;
      break;
    default:
      dead = IntOpReads(op, ins, d);
      break;
  }
  if (dead) {
    if (rax_only) *rax_only = true;
    return true;
  }
  // Loads [dst addr offset] and stores [addr value offset] read a dead operand from rax,
  // where it still is at their exits (see Load and Store; a large offset is added to a
  // copy of the address, or to rax itself, hence the limit).
  constexpr uint64_t kSmallOffset = uint64_t{1} << 30;
  if ((oi.kind == Kind::kLoad && ins[2] == d && ins[3] < kSmallOffset) ||
      (oi.kind == Kind::kStore && ins[3] < kSmallOffset && (ins[1] == d || ins[2] == d))) {
    spill_at_[next] = {d, RAX};
    if (rax_only) *rax_only = true;  // AddressReg and Store take it from rax (held_)
    return true;
  }
  return ReadSoonFromPool(d);
}

// Whether temporary `d`, just computed and not read by the next instruction, is read a
// few instructions later by an IntOpOnRegisters op, with only such ops and constants in
// between and no label: nothing in between can exit (so no stub needs the slot) or
// read it, and the pool register DefRax copies it into survives until the read, since
// the LRU replaces it only after pool_size_ - 1 younger definitions.
bool Translator::ReadSoonFromPool(uint64_t d) const {
  const auto& ops = Ops();
  size_t defs = 0;
  for (size_t pc = next_pc_, step = 0; step < 4 && pc < cf_->code.size() && !label_[pc]; ++step) {
    auto it = ops.by_handler.find(code_[pc]);
    if (it == ops.by_handler.end()) return false;
    const IOp op = it->second;
    const IOp base = ops.info[static_cast<size_t>(op)].base;
    const CodeWord* ins = code_ + pc;
    const size_t next = pc + Length(op, ins);
    if (IntOpOnRegisters(base)) {
      if (IntOpReads(base, ins, d)) return step > 0;  // (the next: StoreIsDead)
      // Its result takes a pool register unless it is pinned or dead (read from rax by
      // the instruction right after it).
      if (Pinned(ins[1]) < 0 && !ReadFromRaxNext(next, ins[1])) ++defs;
    } else if (op != IOp::kConst && op != IOp::kConst32) {
      return false;
    }
    if (ins[1] == d || defs >= pool_size_) return false;
    pc = next;
  }
  return false;
}

// Whether the instruction at `pc` is an IntOpOnRegisters op reading temporary `slot`, so
// that StoreIsDead finds the result defined just before it dead and read from rax.
bool Translator::ReadFromRaxNext(size_t pc, uint64_t slot) const {
  if (slot < cf_->num_locals || IsConstSlot(slot)) return false;
  const IOp op = UnlabelledOpAt(pc);
  return op != IOp::kCount && IntOpReads(Ops().info[static_cast<size_t>(op)].base, code_ + pc, slot);
}

// Moves fp to the callee's frame and calls its native entry; the callee returns with fp
// unchanged. No Frame is pushed: the return address stands for it (CallSiteHere), and
// the stack limit also bounds the depth by the Frames left. A callee already
// translated (or this function itself) is called directly; any other callee's
// jit_code and jit_frame_slots are read when the call runs, through rax = &jit_code
// (set here from `callee`, or by the caller when `callee` is null: call_indirect).
void Translator::CallNative(FuncInst* callee, uint64_t fp_off, size_t pc, size_t ret) {
  const bool self = callee == func_;
  if (self || (callee && callee->jit_code)) {
    uint64_t slots = self ? cf_->frame_slots : callee->jit_frame_slots;
    as_.Lea(RDX, Mem{kFp, static_cast<int32_t>((fp_off + slots) * 8)});
    if (!self) as_.MovImm64(RCX, reinterpret_cast<uint64_t>(callee->jit_code));
  } else {
    if (callee) as_.MovImm64(RAX, reinterpret_cast<uint64_t>(&callee->jit_code));
    as_.Load64(RCX, Mem{RAX, 0});
    as_.TestRR(true, RCX, RCX);
    ExitIf(kE, pc);  // not translated (yet): the interpreter compiles and calls it
    as_.Load64(RDX, Mem{RAX, 8});
    as_.Lea(RDX, Mem{kFp, static_cast<int32_t>(fp_off * 8), RDX, 3});
  }
  as_.AluRM(Assembler::kCmp, true, RDX, STATE_FIELD(slots_end));
  ExitIf(kA, pc);
  as_.AluRM(Assembler::kCmp, true, RSP, STATE_FIELD(stack_limit));
  ExitIf(kB, pc);
  CheckInterrupt(pc);
  as_.AluRI(0, true, kFp, static_cast<int32_t>(fp_off * 8));
  if (self) {
    self_calls_.push_back(as_.CallRel());  // to the entry, once it is placed
  } else {
    as_.CallR(RCX);
  }
  CallSiteHere(ret, fp_off);
  pinned_valid_ = false;  // the callee used them; `ret` reloads them
  as_.AluRI(5, true, kFp, static_cast<int32_t>(fp_off * 8));
}

namespace {

// Where a std::vector keeps its begin and end pointers, if it is laid out as libstdc++
// does (three pointers: begin, end, end of storage); checked on the vector itself.
bool BeginEndPointersFirst(const std::vector<Value>& v) {
  if (sizeof(v) != 3 * sizeof(Value*)) return false;
  Value* const* p = reinterpret_cast<Value* const*>(&v);
  return p[0] == v.data() && p[1] == v.data() + v.size();
}

// Offsets of the FuncInst fields call_indirect checks (FuncInst is not standard-layout,
// so no offsetof).
struct FuncInstOffsets {
  int32_t type_id, instance, jit_code;
};
const FuncInstOffsets& FuncOffsets() {
  static const FuncInstOffsets offsets = [] {
    FuncInst f;
    auto at = [&f](const void* field) {
      return static_cast<int32_t>(static_cast<const char*>(field) - reinterpret_cast<const char*>(&f));
    };
    return FuncInstOffsets{at(&f.type_id), at(&f.instance), at(&f.jit_code)};
  }();
  return offsets;
}

}  // namespace

// rax = &callee->jit_code for call_indirect's callee, as ResolveIndirect finds it, but
// inline: the element in bounds, not null, of the type, of this instance; anything else
// exits for the interpreter to trap or make the call. (Through ResolveIndirect where the
// table's vector is laid out otherwise.)
void Translator::ResolveIndirectInline(TableInst* table, uint64_t idx_slot, uint32_t type_id, size_t pc) {
  if (!BeginEndPointersFirst(table->elements)) {
    as_.MovImm64(RDI, reinterpret_cast<uint64_t>(table));
    as_.Load32(RSI, Slot(idx_slot));
    as_.MovImm64(RDX, type_id);
    as_.MovImm64(RCX, reinterpret_cast<uint64_t>(func_->instance));
    CallC(reinterpret_cast<const void*>(&ResolveIndirect));
    as_.TestRR(true, RAX, RAX);
    ExitIf(kE, pc);
    return;
  }
  const FuncInstOffsets& off = FuncOffsets();
  as_.Load32(RCX, Slot(idx_slot));
  as_.MovImm64(RAX, reinterpret_cast<uint64_t>(&table->elements));  // (the table may grow)
  as_.Load64(RDX, Mem{RAX, 8});
  as_.Load64(RAX, Mem{RAX, 0});
  as_.AluRR(Assembler::kSub, true, RDX, RAX);
  as_.ShiftImm(5, true, RDX, 3);  // shr: the element count
  as_.AluRR(Assembler::kCmp, true, RCX, RDX);
  ExitIf(kAE, pc);
  as_.Load64(RAX, Mem{RAX, 0, static_cast<int8_t>(RCX), 3});  // the FuncInst*, or 0
  as_.TestRR(true, RAX, RAX);
  ExitIf(kE, pc);
  as_.AluMI(7, false, Mem{RAX, off.type_id}, static_cast<int32_t>(type_id));
  ExitIf(kNE, pc);
  as_.MovImm64(RDX, reinterpret_cast<uint64_t>(func_->instance));
  as_.AluRM(Assembler::kCmp, true, RDX, Mem{RAX, off.instance});
  ExitIf(kNE, pc);
  as_.Lea(RAX, Mem{RAX, off.jit_code});
}

void Translator::BrTable(const CodeWord* ins, size_t pc) {
  uint64_t count = ins[2];
  bool backward = false;
  for (uint64_t i = 0; i <= count; ++i) backward |= BranchOffset(ins[3 + i]) <= 0;
  if (backward) CheckInterrupt(pc);
  LoadSlot(RAX, ins[1], false);
  as_.MovImm64(RCX, count);
  as_.AluRR(Assembler::kCmp, false, RAX, RCX);
  as_.Cmov(kA, false, RAX, RCX);
  size_t table_field = as_.LeaRip(RDX);
  as_.OpRM(true, {0x63}, RAX, Mem{RDX, 0, RAX, 2});  // movsxd rax, [rdx + rax*4]
  as_.AluRR(Assembler::kAdd, true, RAX, RDX);
  as_.JmpR(RAX);
  // The table: one 32-bit offset per entry, relative to the table's start, filled in once
  // every target has an address (see the `table` jumps below).
  size_t table = as_.size();
  as_.PatchRel32(table_field, table);
  for (uint64_t i = 0; i <= count; ++i) {
    size_t field = as_.size();
    as_.U32(0);
    size_t target = static_cast<size_t>(static_cast<int64_t>(pc) + BranchOffset(ins[3 + i]));
    if (active_ && target == active_->head) {
      int32_t rel = static_cast<int32_t>(static_cast<int64_t>(active_body_) - static_cast<int64_t>(table));
      std::memcpy(&as_.bytes()[field], &rel, 4);
      continue;
    }
    table_entries_.push_back({field, target, table, LeftBy(target)});
  }
}


// ---- numeric ops ----
bool Translator::Numeric(IOp op, const CodeWord* ins, size_t pc) {
  bool unary = Ops().info[static_cast<size_t>(op)].kind == Kind::kUn;
  if (unary ? InlineUn(op, ins, pc) : InlineBin(op, ins, pc)) return true;
  const Helper& h = Helpers().h[static_cast<size_t>(op)];
  if (!h.fn) return false;
  // The arguments go in pool registers: take them from the slots (up to date after
  // BeforeCall).
  BeforeCall();
  as_.Load64(RDI, Slot(ins[2]));
  if (!unary) as_.Load64(RSI, Slot(ins[3]));
  if (h.traps) {
    as_.Lea(RDX, Slot(ins[1]));
    CallC(h.fn);
    ClearCache();
    ReloadPinned();
    as_.TestRR(false, RAX, RAX);
    ExitIf(kE, pc);
    Wrote(ins[1]);
  } else {
    CallC(h.fn);
    ClearCache();
    ReloadPinned();
    DefRax(ins[1]);
  }
  return true;
}

bool Translator::InlineUn(IOp op, const CodeWord* ins, size_t pc) {
  // Operands as memory, for the ops that read them so (Slot() marks a constant slot read:
  // taken eagerly, a constant used as an immediate would force the entry to store it).
  const Mem d = SlotMem(ins[1]);
  auto a = [&] { return In(ins[2]); };
  switch (op) {
    case IOp::kI32Eqz:
    case IOp::kI64Eqz:
      if (EqzFeedsBranch(ins[1])) {  // only the flags: the br_if after it jumps on ZF
        const bool w = op == IOp::kI64Eqz;
        if (int r = HeldIn(ins[2]); r >= 0) {
          as_.TestRR(w, static_cast<Reg>(r), static_cast<Reg>(r));
        } else {
          as_.AluMI(7, w, Slot(ins[2]), 0);
        }
        Forget(ins[1]);
        zf_is_eqz_of_ = ins[1];
        return true;
      }
      LoadSlot(RCX, ins[2], op == IOp::kI64Eqz);
      as_.XorRR32(RAX);
      as_.TestRR(op == IOp::kI64Eqz, RCX, RCX);
      as_.Setcc(kE, RAX);
      break;
    case IOp::kI32WrapI64:
    case IOp::kI64ExtendI32U:
    case IOp::kI32ReinterpretF32:
    case IOp::kF32ReinterpretI32:
      LoadSlot(RAX, ins[2], false);
      as_.MovRR32(RAX, RAX);
      break;
    case IOp::kI64ReinterpretF64:
    case IOp::kF64ReinterpretI64:
      LoadSlot(RAX, ins[2], true);
      break;
    case IOp::kI64ExtendI32S: as_.Load32S64(RAX, a()); break;
    case IOp::kI32Extend8S: as_.Load8S32(RAX, a()); break;
    case IOp::kI32Extend16S: as_.Load16S32(RAX, a()); break;
    case IOp::kI64Extend8S: as_.Load8S64(RAX, a()); break;
    case IOp::kI64Extend16S: as_.Load16S64(RAX, a()); break;
    case IOp::kI64Extend32S: as_.Load32S64(RAX, a()); break;
    case IOp::kF64Sqrt:
      if (xmm_held_ == ins[2] && xmm_held_dbl_) {  // the previous float result
        as_.SseRR(0x51, XMM0, XMM0, true);
      } else {
        SseWithSlot(0x51, ins[2], true);  // sqrtsd xmm0, a
      }
      as_.MovsdStore(d, XMM0, true);
      Wrote(ins[1]);
      FPoolDef(ins[1], XMM0);
      xmm0_holds_ = ins[1];
      xmm0_dbl_ = true;
      return true;
    case IOp::kF32Sqrt:
      as_.SseRM(0x51, XMM0, a(), false);
      as_.OpRR(false, {0x0F, 0x7E}, XMM0, RAX, 0x66);  // movd eax, xmm0
      break;
    case IOp::kF64ConvertI32S:
      as_.OpRM(false, {0x0F, 0x2A}, XMM0, a(), 0xF2);  // cvtsi2sd xmm0, dword [a]
      as_.MovsdStore(d, XMM0, true);
      Wrote(ins[1]);
      return true;
    default:
      return false;
  }
  DefRax(ins[1]);
  return true;
}

bool Translator::InlineBin(IOp op, const CodeWord* ins, size_t pc) {
  // As in InlineUn: operands as memory only where read so.
  const Mem d = SlotMem(ins[1]);
  const bool w = Is64(op);
  auto load_a = [&](Reg r) { LoadSlot(r, ins[2], w); };
  int32_t imm;
  const bool b_const = ConstImm(ins[3], w, &imm);
  auto alu = [&](Assembler::Alu k) {
    // a + c and a - c with `a` in a register other than rax: one lea into rax instead of
    // a copy and an add (an i32 lea truncates and zero-extends, as i32.add does).
    int a_reg = -1;
    if (b_const && (k == Assembler::kAdd || (k == Assembler::kSub && imm != INT32_MIN)) &&
        held_ != ins[2]) {
      a_reg = HeldIn(ins[2]);
    }
    if (int p = Pinned(ins[1]); a_reg >= 0 && p >= 0) {  // into the pinned local's register
      Mem m{static_cast<Reg>(a_reg), k == Assembler::kAdd ? imm : -imm};
      if (w) as_.Lea(PinReg(p), m); else as_.Lea32(PinReg(p), m);
      Forget(ins[1]);
      return;
    }
    // x = x op b with x pinned: the op on x's register in place (an i32 op zero-extends
    // it, as the slot holds an i32).
    if (int p = Pinned(ins[1]); p >= 0 && ins[2] == ins[1] && ins[3] != ins[1]) {
      AluSlot(k, w, PinReg(p), ins[3]);
      Forget(ins[1]);
      return;
    }
    if (a_reg >= 0) {
      Mem m{static_cast<Reg>(a_reg), k == Assembler::kAdd ? imm : -imm};
      if (w) as_.Lea(RAX, m); else as_.Lea32(RAX, m);
    } else if (b_const) {
      load_a(RAX);
      as_.AluRI(AluExt(k), w, RAX, imm);
    } else if (held_ == ins[3] && held_ != ins[2]) {  // b is in rax
      if (k == Assembler::kSub) {
        as_.MovRR64(RCX, RAX);
        load_a(RAX);
        as_.AluRR(k, w, RAX, RCX);
      } else {
        AluSlot(k, w, RAX, ins[2]);
      }
    } else {
      load_a(RAX);
      AluSlot(k, w, RAX, ins[3]);
    }
    DefRax(ins[1]);
  };
  auto shift = [&](uint8_t ext) {
    if (b_const) {
      load_a(RAX);
      as_.ShiftImm(ext, w, RAX, static_cast<uint8_t>(imm & (w ? 63 : 31)));
      DefRax(ins[1]);
      return;
    }
    LoadSlot(RCX, ins[3], false);
    load_a(RAX);
    as_.ShiftCl(ext, w, RAX);
    DefRax(ins[1]);
  };
  // Floats: xmm0 = a (op) b; f32 results are stored zero-extended, like Value::F32.
  // An operand the previous float op just computed is taken from xmm0.
  // Operands from xmm0 or the float pool where they are (FloatToXmm0, SseWithSlot).
  auto sse = [&](uint8_t opc, bool dbl) {
    const bool in_xmm0 = xmm_held_ != kNone && xmm_held_dbl_ == dbl;
    if (in_xmm0 && xmm_held_ == ins[2]) {
      if (ins[3] == ins[2]) {
        as_.SseRR(opc, XMM0, XMM0, dbl);
      } else {
        SseWithSlot(opc, ins[3], dbl);
      }
    } else if (in_xmm0 && xmm_held_ == ins[3] && (opc == 0x58 || opc == 0x59)) {
      SseWithSlot(opc, ins[2], dbl);  // add and mul commute (a NaN result may carry either payload)
    } else if (in_xmm0 && xmm_held_ == ins[3]) {
      as_.MovapdRR(XMM1, XMM0);
      FloatToXmm0(ins[2], dbl);
      as_.SseRR(opc, XMM0, XMM1, dbl);
    } else {
      FloatToXmm0(ins[2], dbl);
      SseWithSlot(opc, ins[3], dbl);
    }
    xmm0_holds_ = ins[1];
    xmm0_dbl_ = dbl;
    if (dbl) {
      const bool dead = StoreIsDead(ins[1], /*in_gpr=*/false);
      if (!dead) as_.MovsdStore(d, XMM0, true);
      Wrote(ins[1]);
      if (!dead) FPoolDef(ins[1], XMM0);
    } else {
      as_.OpRR(false, {0x0F, 0x7E}, XMM0, RAX, 0x66);  // movd eax, xmm0
      DefRax(ins[1]);
    }
  };
  // Float compares: ucomis sets CF/ZF, and PF when unordered (NaN).
  auto fcmp = [&](bool dbl, bool swap, Cond c) {
    as_.XorRR32(RAX);
    FloatToXmm0(swap ? ins[3] : ins[2], dbl);
    SseWithSlot(0x2E, swap ? ins[2] : ins[3], dbl);
    as_.Setcc(c, RAX);
    DefRax(ins[1]);
  };
  auto feq = [&](bool dbl, bool ne) {
    FloatToXmm0(ins[2], dbl);
    SseWithSlot(0x2E, ins[3], dbl);
    as_.Setcc(ne ? kNE : kE, RAX);
    as_.Setcc(ne ? kP : kNP, RCX);
    if (ne) as_.OpRR(false, {0x0A}, RAX, RCX); else as_.OpRR(false, {0x22}, RAX, RCX);  // or/and al, cl
    as_.Movzx8(RAX, RAX);
    DefRax(ins[1]);
  };
  switch (op) {
    case IOp::kI32Add: case IOp::kI64Add: alu(Assembler::kAdd); return true;
    case IOp::kI32Sub: case IOp::kI64Sub: alu(Assembler::kSub); return true;
    case IOp::kI32And: case IOp::kI64And: alu(Assembler::kAnd); return true;
    case IOp::kI32Or: case IOp::kI64Or: alu(Assembler::kOr); return true;
    case IOp::kI32Xor: case IOp::kI64Xor: alu(Assembler::kXor); return true;
    case IOp::kI32Mul: case IOp::kI64Mul:
      if (int c = Cached(ins[3]); c >= 0 && held_ != ins[3]) {
        load_a(RAX);
        as_.OpRR(w, {0x0F, 0xAF}, RAX, kPool[c]);  // imul rax, reg
      } else {
        LoadSlot(RCX, ins[3], w);
        load_a(RAX);
        as_.OpRR(w, {0x0F, 0xAF}, RAX, RCX);
      }
      DefRax(ins[1]);
      return true;
    case IOp::kI32Shl: case IOp::kI64Shl: shift(4); return true;
    case IOp::kI32ShrS: case IOp::kI64ShrS: shift(7); return true;
    case IOp::kI32ShrU: case IOp::kI64ShrU: shift(5); return true;
    case IOp::kI32Rotl: case IOp::kI64Rotl: shift(0); return true;
    case IOp::kI32Rotr: case IOp::kI64Rotr: shift(1); return true;
    case IOp::kI32Eq: case IOp::kI32Ne: case IOp::kI32LtS: case IOp::kI32LtU:
    case IOp::kI32GtS: case IOp::kI32GtU: case IOp::kI32LeS: case IOp::kI32LeU:
    case IOp::kI32GeS: case IOp::kI32GeU: case IOp::kI64Eq: case IOp::kI64Ne:
    case IOp::kI64LtS: case IOp::kI64LtU: case IOp::kI64GtS: case IOp::kI64GtU:
    case IOp::kI64LeS: case IOp::kI64LeU: case IOp::kI64GeS: case IOp::kI64GeU:
      load_a(RCX);
      if (b_const) as_.AluRI(7, w, RCX, imm); else AluSlot(Assembler::kCmp, w, RCX, ins[3]);
      as_.Setcc(CondOf(op), RAX);
      as_.Movzx8(RAX, RAX);
      DefRax(ins[1]);
      return true;
    case IOp::kI32DivS: case IOp::kI64DivS: case IOp::kI32RemS: case IOp::kI64RemS:
    case IOp::kI32DivU: case IOp::kI64DivU: case IOp::kI32RemU: case IOp::kI64RemU: {
      // Division by zero traps, and signed INT_MIN / -1 overflows: both go to the
      // interpreter, which raises the trap. INT_MIN % -1 is 0 (idiv would fault on it).
      const bool is_signed = op == IOp::kI32DivS || op == IOp::kI64DivS ||
                             op == IOp::kI32RemS || op == IOp::kI64RemS;
      const bool rem = op == IOp::kI32RemS || op == IOp::kI64RemS ||
                       op == IOp::kI32RemU || op == IOp::kI64RemU;
      if (uint64_t d; !is_signed && ConstValue(ins[3], w, &d) && d != 0) {
        load_a(RAX);
        DivideUnsignedByConstant(w, d, rem);
        DefRax(ins[1]);
        return true;
      }
      LoadSlot(RCX, ins[3], w);
      load_a(RAX);
      as_.TestRR(w, RCX, RCX);
      ExitIf(kE, pc);
      if (is_signed) {
        as_.AluRI(7, w, RCX, -1);
        size_t normal = as_.Jcc(kNE);
        if (rem) {
          as_.XorRR32(RDX);  // a % -1 = 0
        } else {
          // a / -1 = -a, overflowing only for INT_MIN: neg sets OF exactly then.
          as_.OpRR(w, {0xF7}, 3, RAX);  // neg
          ExitIf(kO, pc);
        }
        size_t done = as_.Jmp();
        as_.PatchRel32(normal, as_.size());
        as_.Cqo(w);
        as_.DivR(true, w, RCX);
        as_.PatchRel32(done, as_.size());
      } else {
        as_.XorRR32(RDX);
        as_.DivR(false, w, RCX);
      }
      Reg result = rem ? RDX : RAX;
      if (w) {
        if (result != RAX) as_.MovRR64(RAX, result);
      } else {
        as_.MovRR32(RAX, result);  // 32-bit results zero-extended, like the slots
      }
      DefRax(ins[1]);
      return true;
    }
    case IOp::kF64Add: sse(0x58, true); return true;
    case IOp::kF64Sub: sse(0x5C, true); return true;
    case IOp::kF64Mul: sse(0x59, true); return true;
    case IOp::kF64Div: sse(0x5E, true); return true;
    case IOp::kF32Add: sse(0x58, false); return true;
    case IOp::kF32Sub: sse(0x5C, false); return true;
    case IOp::kF32Mul: sse(0x59, false); return true;
    case IOp::kF32Div: sse(0x5E, false); return true;
    case IOp::kF64Eq: feq(true, false); return true;
    case IOp::kF64Ne: feq(true, true); return true;
    case IOp::kF32Eq: feq(false, false); return true;
    case IOp::kF32Ne: feq(false, true); return true;
    case IOp::kF64Lt: fcmp(true, true, kA); return true;
    case IOp::kF64Gt: fcmp(true, false, kA); return true;
    case IOp::kF64Le: fcmp(true, true, kAE); return true;
    case IOp::kF64Ge: fcmp(true, false, kAE); return true;
    case IOp::kF32Lt: fcmp(false, true, kA); return true;
    case IOp::kF32Gt: fcmp(false, false, kA); return true;
    case IOp::kF32Le: fcmp(false, true, kAE); return true;
    case IOp::kF32Ge: fcmp(false, false, kAE); return true;
    default:
      return false;
  }
}

// ---- memory ----
// The effective address is the 32-bit operand plus the constant offset, in 64 bits; it is
// in bounds when ea + size <= memory size (else the interpreter re-runs it and traps).
// The operand is used from the register that holds it (no copy into rax) unless a large
// offset must be added to it, which needs a register of our own: `scratch`.
Reg Translator::AddressReg(uint64_t addr_slot, uint64_t offset, uint32_t size, Reg scratch) {
  if (offset + size < (uint64_t{1} << 31)) {
    if (int r = HeldIn(addr_slot); r >= 0) return static_cast<Reg>(r);
  }
  LoadSlot(scratch, addr_slot, false);
  return scratch;
}

// [r12 + addr + disp] for an access of `size` bytes, after the bounds check where guard
// pages do not stand in for it. `addr` comes from AddressReg. The caller emits the access
// right after: in guard mode its fault site is recorded here.
Mem Translator::Access(Reg addr, uint64_t offset, uint32_t size, size_t pc) {
  int32_t disp = 0;
  if (offset + size < (uint64_t{1} << 31)) {
    disp = static_cast<int32_t>(offset);
  } else {
    as_.MovImm64(RCX, offset);
    as_.AluRR(Assembler::kAdd, true, addr, RCX);
  }
  if (!guard_) {
    as_.Lea(RCX, Mem{addr, static_cast<int32_t>(disp + size)});
    as_.AluRR(Assembler::kCmp, true, RCX, kMemSize);
    ExitIf(kA, pc);
  }
  if (guard_) fault_sites_.push_back({as_.size(), pc, PinnedAtExit()});
  return Mem{kMem, disp, static_cast<int8_t>(addr), 0};
}

void Translator::Load(IOp op, const CodeWord* ins, size_t pc) {
  uint32_t size = 0;
  switch (op) {
    case IOp::kI64Load: case IOp::kF64Load: size = 8; break;
    case IOp::kI32Load: case IOp::kF32Load: case IOp::kI64Load32S: case IOp::kI64Load32U: size = 4; break;
    case IOp::kI32Load16S: case IOp::kI32Load16U: case IOp::kI64Load16S: case IOp::kI64Load16U: size = 2; break;
    default: size = 1; break;
  }
  Mem m = Access(AddressReg(ins[2], ins[3], size, RAX), ins[3], size, pc);
  if (op == IOp::kF64Load) {  // into an xmm register, for the float ops that read it
    const bool next_reads = NextF64OpReads(ins[1]);
    const Xmm x = next_reads ? XMM0 : XMM1;
    as_.MovsdLoad(x, m, true);
    as_.MovsdStore(SlotMem(ins[1]), x, true);
    Wrote(ins[1]);
    FPoolDef(ins[1], x);
    if (next_reads) {
      xmm0_holds_ = ins[1];
      xmm0_dbl_ = true;
    }
    return;
  }
  // Into a pinned local's register directly (a fault leaves it as it was, for the exit
  // stub to write back); anything else into rax.
  const int pinned = op == IOp::kF32Load ? -1 : Pinned(ins[1]);
  const Reg dst = pinned >= 0 ? PinReg(pinned) : RAX;
  switch (op) {
    case IOp::kI64Load: as_.Load64(dst, m); break;
    case IOp::kI32Load: case IOp::kF32Load: case IOp::kI64Load32U: as_.Load32(dst, m); break;
    case IOp::kI64Load32S: as_.Load32S64(dst, m); break;
    case IOp::kI32Load16S: as_.Load16S32(dst, m); break;
    case IOp::kI64Load16S: as_.Load16S64(dst, m); break;
    case IOp::kI32Load16U: case IOp::kI64Load16U: as_.Load16U(dst, m); break;
    case IOp::kI32Load8S: as_.Load8S32(dst, m); break;
    case IOp::kI64Load8S: as_.Load8S64(dst, m); break;
    default: as_.Load8U(dst, m); break;  // I32Load8U, I64Load8U
  }
  if (pinned >= 0) {
    Forget(ins[1]);
    return;
  }
  DefRax(ins[1]);
}

// [addr value offset]. Both operands are used from the registers that hold them; one not
// in a register is loaded into rdx (the value) or into whichever of rax and rdx is free
// (the address). A dead operand (StoreIsDead) is the previous result, so it is in rax.
void Translator::Store(IOp op, const CodeWord* ins, size_t pc) {
  uint32_t size = 0;
  switch (op) {
    case IOp::kI64Store: case IOp::kF64Store: size = 8; break;
    case IOp::kI32Store: case IOp::kF32Store: case IOp::kI64Store32: size = 4; break;
    case IOp::kI32Store16: case IOp::kI64Store16: size = 2; break;
    default: size = 1; break;
  }
  const uint64_t addr_slot = ins[1], value_slot = ins[2], offset = ins[3];
  if (op == IOp::kF64Store) {
    // A float result from xmm0 (just computed) or the float pool (its slot holds it too,
    // for an exit).
    const int x = xmm_held_ == value_slot && xmm_held_dbl_ ? XMM0 : FHeldIn(value_slot);
    if (x >= 0) {
      Mem m = Access(AddressReg(addr_slot, offset, size, RAX), offset, size, pc);
      as_.MovsdStore(m, static_cast<Xmm>(x), true);
      return;
    }
  }
  if (int32_t imm; ConstImm(value_slot, size == 8, &imm)) {  // a constant: mov [m], imm
    Mem m = Access(AddressReg(addr_slot, offset, size, RAX), offset, size, pc);
    switch (size) {
      case 8: as_.StoreImm32(m, imm, true); break;
      case 4: as_.StoreImm32(m, imm, false); break;
      case 2: as_.StoreImm16(m, static_cast<uint16_t>(imm)); break;
      default: as_.StoreImm8(m, static_cast<uint8_t>(imm)); break;
    }
    return;
  }
  Reg value = RDX;
  if (int r = HeldIn(value_slot); r >= 0) {
    value = static_cast<Reg>(r);
  } else {
    LoadSlot(RDX, value_slot, true);
  }
  Reg addr = AddressReg(addr_slot, offset, size, value == RAX ? RDX : RAX);
  Mem m = Access(addr, offset, size, pc);
  switch (size) {
    case 8: as_.Store64(m, value); break;
    case 4: as_.Store32(m, value); break;
    case 2: as_.Store16(m, value); break;
    default: as_.Store8(m, value); break;
  }
}

// ---- guard pages: SIGSEGV in native code -> exit to the interpreter ----
// Every effective address is below 2^32 + 2^32 + 8; the memory's reservation must cover it.
constexpr uint64_t kGuardedReservation = (uint64_t{1} << 33) + 16;

// The activation running native code on this thread (Enter sets it, restores the outer
// one after). initial-exec TLS: reading it in a signal handler is safe.
__attribute__((tls_model("initial-exec"))) thread_local JitState* t_current = nullptr;
struct sigaction g_previous_segv;

void OnFault(int sig, siginfo_t* info, void* context) {
  auto* uc = static_cast<ucontext_t*>(context);
  JitState* js = t_current;
  if (js && js->arena && js->mem) {
    auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
    auto base = reinterpret_cast<uintptr_t>(js->mem);
    // Only a fault inside the memory's reservation, at a known access, is a wasm trap;
    // anything else is a real crash and goes to the previous handler.
    if (addr >= base && addr - base < kGuardedReservation) {
      if (const void* stub = js->arena->FaultStub(static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]))) {
        uc->uc_mcontext.gregs[REG_RIP] = reinterpret_cast<greg_t>(stub);
        return;
      }
    }
  }
  if (g_previous_segv.sa_flags & SA_SIGINFO) {
    g_previous_segv.sa_sigaction(sig, info, context);
  } else if (g_previous_segv.sa_handler == SIG_DFL || g_previous_segv.sa_handler == SIG_IGN) {
    sigaction(sig, &g_previous_segv, nullptr);  // the fault repeats with the default action
  } else {
    g_previous_segv.sa_handler(sig);
  }
}

// Installs the handler once. Off under sanitizers (they own SIGSEGV) and with
// WEFT_JIT_GUARD=0, where every access keeps its inline check.
bool GuardPagesUsable() {
  static const bool usable = [] {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return false;
#else
    const char* v = std::getenv("WEFT_JIT_GUARD");
    if (v && std::strcmp(v, "0") == 0) return false;
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = OnFault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGSEGV, &sa, &g_previous_segv) == 0;
#endif
  }();
  return usable;
}

}  // namespace

// ---- the arena and the trampoline ----
CodeArena::CodeArena() {
  Assembler a;
  // uint64_t Enter(JitState* state /*rdi*/, const void* target /*rsi*/)
  for (Reg r : {RBP, RBX, R12, R13, R14, R15}) a.Push(r);
  a.AluRI(5, true, RSP, 8);
  a.MovRR64(kState, RDI);
  a.Store64(STATE_FIELD(entry_rsp), RSP);
  a.Load64(kFp, STATE_FIELD(fp));
  a.Load64(kMem, STATE_FIELD(mem));
  a.Load64(kMemSize, STATE_FIELD(mem_size));
  a.Load64(kIntr, STATE_FIELD(interrupt));
  // Enter the body as if called from here: a Return (`add rsp, 8; ret`) lands at `back`.
  size_t back_field = a.LeaRip(RAX);
  a.Push(RAX);
  a.AluRI(5, true, RSP, 8);
  a.JmpR(RSI);
  a.PatchRel32(back_field, a.size());
  size_t back = a.size();
  // back: the entered function returned.
  a.Store64(STATE_FIELD(fp), kFp);
  a.XorRR32(RAX);
  size_t epilogue = a.size();
  a.AluRI(0, true, RSP, 8);
  for (Reg r : {R15, R14, R13, R12, RBX, RBP}) a.Pop(r);
  a.Ret();
  // exit_path: rax = accumulator, rcx = instruction, rdx = function (see EmitExits).
  size_t exit_path = a.size();
  a.Store64(STATE_FIELD(exit_acc), RAX);
  a.Store64(STATE_FIELD(exit_pc), RCX);
  a.Store64(STATE_FIELD(exit_func), RDX);
  a.Store64(STATE_FIELD(fp), kFp);
  // The interpreter continues inside the native calls: write their Frames. (rsp is the
  // exiting function's, 16-byte aligned, with its return address at rsp + 8.)
  a.MovRR64(RDI, kState);
  a.Lea(RSI, Mem{RSP, 8});
  a.MovRR64(RDX, kFp);
  a.Load64(RCX, STATE_FIELD(fsp));
  a.MovImm64(RAX, reinterpret_cast<uint64_t>(&MaterializeOnExit));
  a.CallR(RAX);
  a.Store64(STATE_FIELD(fsp), RAX);
  a.Load64(RSP, STATE_FIELD(entry_rsp));
  a.MovImm64(RAX, 1);
  size_t j = a.Jmp();
  a.PatchRel32(j, epilogue);
  uint8_t* base = Install(a.bytes());
  if (base) {
    enter_ = reinterpret_cast<EnterFn>(base);
    exit_path_ = base + exit_path;
    back_ = base + back;
  }
}

CodeArena::~CodeArena() {
  for (const Chunk& c : chunks_) munmap(c.base, c.size);
}

uint8_t* CodeArena::Install(const std::vector<uint8_t>& code) {
  constexpr size_t kAlign = 16;
  size_t need = (code.size() + kAlign - 1) & ~(kAlign - 1);
  if (chunks_.empty() || chunks_.back().size - chunks_.back().used < need) {
    size_t size = std::max(kChunkSize, (need + 4095) & ~size_t{4095});
    void* p = mmap(nullptr, size, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return nullptr;
    chunks_.push_back({static_cast<uint8_t*>(p), size, 0});
  }
  Chunk& c = chunks_.back();
  uint8_t* dst = c.base + c.used;
  // Only the pages being written are made writable, and never executable at the same time.
  uintptr_t lo = reinterpret_cast<uintptr_t>(dst) & ~uintptr_t{4095};
  uintptr_t hi = (reinterpret_cast<uintptr_t>(dst) + need + 4095) & ~uintptr_t{4095};
  void* page = reinterpret_cast<void*>(lo);
  if (mprotect(page, hi - lo, PROT_READ | PROT_WRITE) != 0) return nullptr;
  std::memcpy(dst, code.data(), code.size());
  if (mprotect(page, hi - lo, PROT_READ | PROT_EXEC) != 0) return nullptr;
  c.used += need;
  return dst;
}

EnterResult CodeArena::Enter(JitState* state, const void* target) {
  state->exit_path = exit_path_;
  state->arena = this;
  state->outer = t_current;
  t_current = state;
  auto r = static_cast<EnterResult>(enter_(state, target));
  t_current = state->outer;
  return r;
}

void CodeArena::AddCode(const uint8_t* code, size_t size, FuncInst* func,
                        std::vector<FaultSite> faults, std::vector<CallSite> calls) {
  std::sort(faults.begin(), faults.end(),
            [](const FaultSite& a, const FaultSite& b) { return a.offset < b.offset; });
  CodeRange r{reinterpret_cast<uintptr_t>(code), reinterpret_cast<uintptr_t>(code) + size, func,
              std::move(faults), std::move(calls)};
  auto at = std::upper_bound(ranges_.begin(), ranges_.end(), r.start,
                             [](uintptr_t v, const CodeRange& x) { return v < x.start; });
  ranges_.insert(at, std::move(r));
}

const CodeArena::CodeRange* CodeArena::RangeOf(uintptr_t ip) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), ip,
                             [](uintptr_t v, const CodeRange& x) { return v < x.start; });
  if (it == ranges_.begin()) return nullptr;
  --it;
  return ip < it->end ? &*it : nullptr;
}

Frame* CodeArena::MaterializeFrames(const JitState& state, const void* const* ret_slot,
                                    Value* fp, Frame* fsp) const {
  // The outermost function's return address is the one Enter pushed, just below
  // entry_rsp; each native call level above it takes 16 bytes (see EmitPrologue).
  const void* const* outermost = static_cast<const void* const*>(state.entry_rsp) - 1;
  size_t n = static_cast<size_t>(outermost - ret_slot) / 2;
  Frame* top = fsp + n;
  Frame* f = top;
  for (const void* const* slot = ret_slot; slot != outermost; slot += 2) {
    auto ret = reinterpret_cast<uintptr_t>(*slot);
    const CodeRange* range = RangeOf(ret);
    const CallSite* site = nullptr;
    if (range) {
      auto off = static_cast<uint32_t>(ret - range->start);
      auto it = std::lower_bound(range->calls.begin(), range->calls.end(), off,
                                 [](const CallSite& c, uint32_t v) { return c.ret_offset < v; });
      if (it != range->calls.end() && it->ret_offset == off) site = &*it;
    }
    if (!site) {  // a return address that no call of native code made: a bug, never a guess
      std::fprintf(stderr, "weft: internal error: unknown native return address %p\n", *slot);
      std::abort();
    }
    fp -= site->callee_fp;
    *--f = Frame{reinterpret_cast<const CodeWord*>(site->ret_pc), fp, range->func};
  }
  return top;
}

Frame* MaterializeHostCaller(const JitState& state, Frame* fsp) {
  // The return address of the call to HostCall sits just below host_rsp.
  return state.arena->MaterializeFrames(
      state, static_cast<const void* const*>(state.host_rsp) - 1, state.fp, fsp);
}

const void* CodeArena::FaultStub(uintptr_t ip) const {
  const CodeRange* it = RangeOf(ip);
  if (!it) return nullptr;
  auto off = static_cast<uint32_t>(ip - it->start);
  auto site = std::lower_bound(it->faults.begin(), it->faults.end(), off,
                               [](const FaultSite& s, uint32_t v) { return s.offset < v; });
  if (site == it->faults.end() || site->offset != off) return nullptr;
  return reinterpret_cast<const void*>(it->start + site->stub);
}

namespace {

// WEFT_PERF_MAP=1 writes /tmp/perf-PID.map, so `perf report` names native code, and
// each function's code to /tmp/perf-PID-ADDR.bin.
void WritePerfMap(FuncInst* func, const uint8_t* code, size_t size) {
  static FILE* map = [] {
    const char* v = std::getenv("WEFT_PERF_MAP");
    if (!v || std::strcmp(v, "1") != 0) return static_cast<FILE*>(nullptr);
    char path[64];
    std::snprintf(path, sizeof path, "/tmp/perf-%d.map", static_cast<int>(getpid()));
    return std::fopen(path, "a");
  }();
  if (!map) return;
  const Module& m = *func->instance->module;
  std::string_view name = m.FuncName(func->func_index);
  std::fprintf(map, "%lx %zx wasm[%u]:%.*s\n", reinterpret_cast<unsigned long>(code), size,
               func->func_index, static_cast<int>(name.size()), name.data());
  std::fflush(map);
  // And the code itself, for `objdump -D -b binary -mi386:x86-64 --adjust-vma=ADDR`.
  char path[96];
  std::snprintf(path, sizeof path, "/tmp/perf-%d-%lx.bin", static_cast<int>(getpid()),
                reinterpret_cast<unsigned long>(code));
  if (FILE* f = std::fopen(path, "wb")) {
    std::fwrite(code, 1, size, f);
    std::fclose(f);
  }
}

}  // namespace

namespace {

// The functions of the same instance that `cf` calls directly and that the interpreter has
// already run for at least half the hot threshold, not yet translated.
std::vector<FuncInst*> WarmCallees(FuncInst* func, const CompiledFunc* cf) {
  std::vector<FuncInst*> out;
  const uint32_t warm = std::max<uint32_t>(1, HotThreshold() / 2);
  WalkCode(*cf, [&](size_t, IOp op, const CodeWord* ins, size_t) {
    if (op != IOp::kCall) return true;
    FuncInst* callee = func->instance->funcs[ins[1]];
    auto* ccf = static_cast<const CompiledFunc*>(callee->compiled);
    if (callee != func && callee->instance == func->instance && ccf && !ccf->native &&
        ccf->hotness >= warm && std::find(out.begin(), out.end(), callee) == out.end())
      out.push_back(callee);
    return true;
  });
  return out;
}

void CompileNative(CodeArena& arena, FuncInst* func, CompiledFunc* cf, int depth) {
  // Warm callees first, so that the calls to them are direct (no load of jit_code, no
  // null check): a loop that calls a small function gets hot together with it, and
  // usually first. Two levels: deeper callees are translated when they get hot.
  if (depth < 2) {
    for (FuncInst* callee : WarmCallees(func, cf))
      CompileNative(arena, callee, static_cast<CompiledFunc*>(callee->compiled), depth + 1);
    if (cf->native) return;  // (a callee's callee was this function)
  }
  Translator t(func, cf);
  const Instance* inst = func->instance;
  t.set_guard(GuardPagesUsable() && !inst->memories.empty() &&
              inst->memories[0]->reserved_bytes >= kGuardedReservation);
  if (!t.Run()) return;
  uint8_t* code = arena.Install(t.bytes());
  if (!code) return;
  arena.AddCode(code, t.bytes().size(), func, std::move(t.fault_sites()), std::move(t.call_sites()));
  cf->native = code;
  cf->native_size = static_cast<uint32_t>(t.bytes().size());
  cf->native_at = std::move(t.native_at());
  WritePerfMap(func, code, t.bytes().size());
  func->jit_frame_slots = cf->frame_slots;
  func->jit_code = code + t.entry_offset();
}

}  // namespace

void CompileNative(CodeArena& arena, FuncInst* func, CompiledFunc* cf) {
  // Generated calls read jit_frame_slots right after jit_code.
  if (reinterpret_cast<char*>(&func->jit_frame_slots) - reinterpret_cast<char*>(&func->jit_code) != 8)
    return;
  if (!arena.ready()) return;
  CompileNative(arena, func, cf, 0);
}

#endif  // x86-64 Linux

#if !(defined(__x86_64__) && defined(__linux__))  // not x86-64 Linux: no native code, the interpreter runs everything

bool Enabled() { return false; }
uint32_t HotThreshold() { return 0; }
CodeArena::CodeArena() {}
CodeArena::~CodeArena() {}
uint8_t* CodeArena::Install(const std::vector<uint8_t>&) { return nullptr; }
EnterResult CodeArena::Enter(JitState*, const void*) { return EnterResult::kReturned; }
Frame* MaterializeHostCaller(const JitState&, Frame* fsp) { return fsp; }
void CompileNative(CodeArena&, FuncInst*, CompiledFunc*) {}

#endif

}  // namespace weft::wasm::jit
