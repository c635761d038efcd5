// Translates one validated function body into the interpreter's slot-addressed code.
//
// Every wasm operand-stack position p has a fixed frame slot (num_locals + p). The
// compiler keeps a shadow stack whose entries say where a value lives right now:
//   kSlot  - in its own positional slot,
//   kLocal - still in local N (a `local.get` emits nothing: the consumer reads the local),
//   kConst - a constant not yet written anywhere.
// Lazy entries are written to their slot ("materialised") only when needed: before a
// write to the local they reference, at block boundaries, for call arguments and branch
// values. A `local.set` right after an instruction that produced the stack top rewrites
// that instruction's destination to the local instead of emitting a copy.
// The input is trusted (DecodeModule validated it), so reading never fails here.
#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "wasm/decode/reader.h"
#include "wasm/runtime/store_impl.h"

namespace weft::wasm {
namespace {

enum class Op : uint16_t {
#define WEFT_OP(prefix, code, Name, text) Name,
#include "wasm/opcodes.def"
#undef WEFT_OP
};

constexpr size_t kNone = ~size_t{0};
constexpr uint32_t kNoFixup = ~uint32_t{0};
// Accumulator bookkeeping (see dispatch.cc): which ops leave their result in the
// interpreter's accumulator register, and the variant of an op that reads operand a from it.
// Built at compile time: in .rodata, nothing to initialise or write at run time.
struct AccTables {
  IOp variant[static_cast<size_t>(IOp::kCount)] = {};
  IOp base[static_cast<size_t>(IOp::kCount)] = {};
  // Store -> its variant reading the stored value from the accumulator.
  IOp value_variant[static_cast<size_t>(IOp::kCount)] = {};
  bool sets_acc[static_cast<size_t>(IOp::kCount)] = {};
  constexpr AccTables() {
    for (size_t i = 0; i < static_cast<size_t>(IOp::kCount); ++i) {
      variant[i] = IOp::kCount;
      value_variant[i] = IOp::kCount;
      base[i] = static_cast<IOp>(i);
    }
#define IOP(Name)
#define IOP_LOAD(Name) sets_acc[static_cast<size_t>(IOp::k##Name)] = true;
#define IOP_ACC(Name)                                                      \
  variant[static_cast<size_t>(IOp::k##Name)] = IOp::k##Name##A;            \
  base[static_cast<size_t>(IOp::k##Name##A)] = IOp::k##Name;
#define IOP_SETS_ACC(Name) sets_acc[static_cast<size_t>(IOp::k##Name)] = true;
#define IOP_STORE_V(Name) value_variant[static_cast<size_t>(IOp::k##Name)] = IOp::k##Name##V;
#include "wasm/interp/iops.def"
#undef IOP
    // An accumulator variant sets the accumulator exactly when its base op does.
#define IOP(Name)
#define IOP_ACC(Name)                                   \
  sets_acc[static_cast<size_t>(IOp::k##Name##A)] = sets_acc[static_cast<size_t>(IOp::k##Name)];
#include "wasm/interp/iops.def"
#undef IOP
  }
};
constexpr AccTables kAccTables;
const AccTables& Acc() { return kAccTables; }

// The pairs of iops.def: two instructions in a row that one handler runs. A table per
// op that starts a pair, indexed by the second op: two loads per instruction translated.
struct PairTables {
  static constexpr size_t kOps = static_cast<size_t>(IOp::kCount);
  static constexpr size_t kMaxFirsts = 16;
  uint8_t first_index[kOps] = {};  // 0: no pair starts with this op; else 1 + its table
  IOp pair[kMaxFirsts][kOps] = {};
  constexpr PairTables() {
    size_t firsts = 0;
    auto add = [&](IOp first, IOp second, IOp p) {
      uint8_t& fi = first_index[static_cast<size_t>(first)];
      if (fi == 0) {
        fi = static_cast<uint8_t>(++firsts);
        for (IOp& e : pair[fi - 1]) e = IOp::kCount;
      }
      pair[fi - 1][static_cast<size_t>(second)] = p;
    };
#define IOP(Name)
#define IOP_PAIR(First, Second) add(IOp::k##First, IOp::k##Second, IOp::k##First##_##Second);
#include "wasm/interp/iops.def"
#undef IOP
    // (More first ops than kMaxFirsts fail here, at compile time.)
    if (firsts > kMaxFirsts) throw "PairTables: raise kMaxFirsts";
  }
};
constexpr PairTables kPairTables;
IOp PairOf(IOp first, IOp second) {
  uint8_t fi = kPairTables.first_index[static_cast<size_t>(first)];
  return fi == 0 ? IOp::kCount : kPairTables.pair[fi - 1][static_cast<size_t>(second)];
}

struct Entry {
  enum Kind : uint8_t { kSlot, kLocal, kConst } kind = kSlot;
  uint32_t local = 0;
  uint64_t bits = 0;
};

struct Ctrl {
  enum Kind : uint8_t { kBlock, kLoop, kIf, kFunc } kind = kBlock;
  uint32_t base = 0;  // operand height below the block's params
  uint32_t nparams = 0;
  uint32_t nresults = 0;
  size_t loop_pc = 0;
  // The forward branches to this block's end, as a list through CompilerBuffers::fixups
  // (one pool for the whole function instead of a vector a block: hello compiled 80).
  uint32_t first_fixup = kNoFixup;
  size_t else_word = kNone;
  size_t else_instr = 0;
  bool unreachable = false;  // the rest of this block is dead code
  bool dead = false;         // the whole block is dead (opened in dead code)
};

// A forwarding function: its body passes its parameters, in order, to a call of a host
// function of the same type and returns what that returns, perhaps masked by an i32.and
// with a constant. wasi-libc wraps every WASI import so (`__wasi_fd_write` returns the
// import's result & 0xffff). A call to one compiles to a call of the host function
// itself, which saves a wasm call on every WASI call. What is visible of the difference:
// the backtrace of a trap the host function returns does not list the wrapper, and the
// wrapper's frame does not count towards the call-depth limit.
struct Forward {
  uint32_t target;  // function index of the host function
  bool masked = false;
  uint32_t mask = 0;
};
// The choice depends on how the instance is linked, not only on the module: a code cache
// entry (weft/wasm/code_cache.h) records which imports were host functions and is used
// only by instances linked alike (TranslatedCode::FitsLinking). Any other translation
// choice that depends on linking needs recording the same way.
std::optional<Forward> ForwardOf(const Instance& inst, uint32_t fidx) {
  const Module& m = *inst.module;
  const FuncInst* f = inst.funcs[fidx];
  if (fidx < m.num_imported_funcs || f->is_host()) return std::nullopt;
  const Function& fn = m.DefinedFunction(fidx);
  if (fn.num_locals != 0) return std::nullopt;
  const uint8_t* p = m.bytes.data() + fn.body_offset;
  const uint8_t* end = p + fn.body_size;
  const size_t np = f->type->params.size();
  // Every opcode read below is one byte and every immediate at most 5, so a body that is
  // long enough for the pattern is read within bounds; longer bodies fail the end check.
  if (fn.body_size > 8 * (np + 3)) return std::nullopt;
  for (size_t i = 0; i < np; ++i) {
    if (*p++ != 0x20 || ReadU32Unchecked(p) != i) return std::nullopt;  // local.get i
  }
  if (*p++ != 0x10) return std::nullopt;  // call
  Forward fw{ReadU32Unchecked(p)};
  if (fw.target >= inst.funcs.size()) return std::nullopt;
  const FuncInst* target = inst.funcs[fw.target];
  if (!target->is_host() || target->type_id != f->type_id) return std::nullopt;
  if (*p == 0x41) {  // i32.const C; i32.and
    ++p;
    fw.mask = static_cast<uint32_t>(ReadS32Unchecked(p));
    if (*p++ != 0x71) return std::nullopt;
    fw.masked = true;
  }
  if (*p++ != 0x0B || p != end) return std::nullopt;  // end, and nothing after it
  return fw;
}

// A forward branch whose target is not known yet: its operand word, the start of its
// instruction, and the block's next such branch (kNoFixup ends the list).
struct Fixup {
  size_t word;
  size_t instr;
  uint32_t next;
};

// The buffers a translation grows, kept per thread between translations: each function's
// code grows into the capacity earlier ones left instead of reallocating from empty. A
// short run compiles a few dozen functions; from empty, their doubling buffers touched
// ~15 fresh heap pages, and each first touch of a page is a page fault (~11 us on the
// PVM machines here: start-up, issue 5).
struct CompilerBuffers {
  std::vector<uint64_t> const_values;
  std::vector<Fixup> fixups;
  std::vector<CodeWord> code;
  std::vector<std::pair<uint32_t, uint32_t>> offsets;
  std::vector<Entry> stack;
  std::vector<Ctrl> ctrls;
  std::vector<std::pair<uint32_t, IOp>> instrs;  // where each instruction starts, and its op
  std::vector<uint8_t> written;                  // per local: set by the code so far
  bool in_use = false;
  // What one huge function grew is not kept for the thread's lifetime.
  void DropIfLarge() {
    auto drop = [](auto& v) {
      constexpr size_t kKeepBytes = size_t{1} << 20;
      if (v.capacity() * sizeof(v[0]) > kKeepBytes) std::remove_reference_t<decltype(v)>().swap(v);
    };
    drop(const_values);
    drop(code);
    drop(offsets);
    drop(stack);
    drop(ctrls);
    drop(fixups);
    drop(instrs);
    drop(written);
  }
};

// This thread's buffers, or (for a translation started inside another, which nothing
// does today) buffers of its own.
class CompilerBuffersLease {
 public:
  CompilerBuffersLease() {
    static thread_local CompilerBuffers thread_buffers;
    if (!thread_buffers.in_use) {
      buffers_ = &thread_buffers;
      thread_buffers.in_use = true;
    } else {
      own_ = std::make_unique<CompilerBuffers>();
      buffers_ = own_.get();
    }
  }
  ~CompilerBuffersLease() {
    if (own_) return;
    buffers_->DropIfLarge();
    buffers_->in_use = false;
  }
  CompilerBuffersLease(const CompilerBuffersLease&) = delete;
  CompilerBuffersLease& operator=(const CompilerBuffersLease&) = delete;
  CompilerBuffers* operator->() const { return buffers_; }

 private:
  CompilerBuffers* buffers_;
  std::unique_ptr<CompilerBuffers> own_;
};

class Compiler {
 public:
  explicit Compiler(FuncInst* func)
      : func_(func), inst_(func->instance), module_(*inst_->module),
        handlers_(interp::HandlerTable()) {}

  std::unique_ptr<CompiledFunc> Run();
  // Translates again, recording where each instruction came from; empty locations if the
  // translation does not reproduce `compiled` (it always should: nothing it reads changes).
  CodeLocations Locate(const CompiledFunc& compiled);

 private:
  // The translation, with num_consts_ constant slots reserved between the locals and the
  // operands. The code and offsets stay in the buffers; Run copies them out.
  std::unique_ptr<CompiledFunc> Translate();

 private:
  // ---- byte reading (validated input) ----
  uint8_t Byte() { return bytes_[pos_++]; }
  uint64_t ReadU() {
    const uint8_t* p = bytes_ + pos_;
    uint64_t r = ReadLebUnchecked(p);
    pos_ = static_cast<size_t>(p - bytes_);
    return r;
  }
  uint32_t ReadU32() { return static_cast<uint32_t>(ReadU()); }
  int64_t ReadS() {
    const uint8_t* p = bytes_ + pos_;
    int64_t r = ReadSignedLebUnchecked(p);
    pos_ = static_cast<size_t>(p - bytes_);
    return r;
  }
  void ReadBlockType(uint32_t* np, uint32_t* nr) {
    uint8_t b = bytes_[pos_];
    if (b == 0x40) { pos_++; *np = 0; *nr = 0; return; }
    if (b >= 0x6F && b <= 0x7F) { pos_++; *np = 0; *nr = 1; return; }
    const FuncType& t = module_.types[static_cast<uint32_t>(ReadS())];
    *np = static_cast<uint32_t>(t.params.size());
    *nr = static_cast<uint32_t>(t.results.size());
  }

  // ---- emission ----
  size_t Emit(IOp op) {
    size_t at = code_.size();
    last_instr_ = at;
    last_op_ = op;
    code_.push_back(HandlerWord(handlers_, op));
    instrs_.push_back({static_cast<uint32_t>(at), op});
    if (record_offsets_ && (offsets_.empty() || offsets_.back().second != instr_offset_))
      offsets_.emplace_back(static_cast<uint32_t>(at), instr_offset_);
    producer_word_ = kNone;
    return at;
  }
  // An operand word: a slot index, an index into the instance, or a 32-bit immediate.
  void Word(uint64_t w) { code_.push_back(static_cast<CodeWord>(w)); }
  // slot = bits, as one word of immediate when it fits (i32 values are zero-extended).
  void EmitConst(uint64_t slot, uint64_t bits) {
    if (bits <= 0xFFFFFFFFu) {
      Emit(IOp::kConst32); Word(slot); Word(bits);
    } else {
      Emit(IOp::kConst); Word(slot); Word(static_cast<uint32_t>(bits)); Word(bits >> 32);
    }
  }

  uint32_t H() const { return static_cast<uint32_t>(stack_.size()); }
  uint64_t PosSlot(uint32_t pos) const { return num_locals_ + num_consts_ + pos; }

  // Writes entry i into its positional slot.
  void Materialize(uint32_t i) {
    Entry& e = stack_[i];
    if (e.kind == Entry::kLocal) {
      Emit(IOp::kCopy); Word(PosSlot(i)); Word(e.local);
    } else if (e.kind == Entry::kConst) {
      EmitConst(PosSlot(i), e.bits);
    }
    e.kind = Entry::kSlot;
  }
  void MaterializeAll() { for (uint32_t i = 0; i < H(); ++i) Materialize(i); }
  void MaterializeTop(uint32_t n) { for (uint32_t i = H() - n; i < H(); ++i) Materialize(i); }

  // The slot an instruction can read entry i from. Constants live in the frame's constant
  // slots (copied in on entry), up to Function::kMaxConstSlots distinct values; beyond
  // that they are written into their positional slot.
  uint64_t SlotOf(uint32_t i) {
    Entry& e = stack_[i];
    if (e.kind == Entry::kLocal) return e.local;
    if (e.kind == Entry::kConst) {
      // At most Function::kMaxConstSlots values: a linear search, and no allocation per
      // constant.
      auto it = std::find(const_values_.begin(), const_values_.end(), e.bits);
      if (it != const_values_.end()) {
        return num_locals_ + static_cast<uint32_t>(it - const_values_.begin());
      }
      // When the body may have more distinct constants than slots, the slots go to the
      // constants used inside loops, which run often; one used outside every loop is
      // written where it is used, which runs about once per call, as the copy into a
      // slot would.
      bool may_overflow = num_consts_ == Function::kMaxConstSlots;
      if (const_values_.size() < num_consts_ && (!may_overflow || open_loops_ > 0)) {
        uint32_t k = static_cast<uint32_t>(const_values_.size());
        const_values_.push_back(e.bits);
        return num_locals_ + k;
      }
      Materialize(i);
    }
    return PosSlot(i);
  }
  uint64_t PopSlot() {
    uint64_t s = SlotOf(H() - 1);
    stack_.pop_back();
    return s;
  }
  uint64_t PushSlot() {
    stack_.push_back(Entry{});
    if (H() > max_height_) max_height_ = H();
    return PosSlot(H() - 1);
  }
  void PushSlots(uint32_t n) { for (uint32_t i = 0; i < n; ++i) PushSlot(); }
  // A constant on the stack, written nowhere yet; its positional slot counts towards the
  // frame size, since materialising it writes there.
  void PushConst(uint64_t bits) {
    stack_.push_back(Entry{Entry::kConst, 0, bits});
    if (H() > max_height_) max_height_ = H();
  }
  // Marks the last emitted instruction as the producer of the stack top; its destination
  // operand is at code word `word`.
  void Produced(size_t word) { producer_word_ = word; producer_height_ = H(); }

  // True when `slot` holds the result of the instruction just emitted, and that result is
  // also in the accumulator register.
  bool InAcc(uint64_t slot) const {
    return producer_word_ != kNone && last_instr_ != kNone && producer_word_ == last_instr_ + 1 &&
           code_[producer_word_] == slot && Acc().sets_acc[static_cast<size_t>(last_op_)];
  }
  IOp WithAcc(IOp op, uint64_t a) const {
    IOp v = Acc().variant[static_cast<size_t>(op)];
    return v != IOp::kCount && InAcc(a) ? v : op;
  }

  void Unary(IOp op) {
    uint64_t a = PopSlot();
    IOp eff = WithAcc(op, a);
    uint64_t d = PushSlot();
    Emit(eff); Word(d); Word(a);
    Produced(code_.size() - 2);
  }
  // The integer ops whose operands can swap (the accumulator variants read operand a).
  static bool Commutes(IOp op) {
    switch (op) {
      case IOp::kI32Add: case IOp::kI32Mul: case IOp::kI32And: case IOp::kI32Or:
      case IOp::kI32Xor: case IOp::kI32Eq: case IOp::kI32Ne: case IOp::kI64Add:
      case IOp::kI64Mul: case IOp::kI64And: case IOp::kI64Or: case IOp::kI64Xor:
      case IOp::kI64Eq: case IOp::kI64Ne:
        return true;
      default:
        return false;
    }
  }
  void Binary(IOp op) {
    uint64_t b = SlotOf(H() - 1);
    uint64_t a = SlotOf(H() - 2);
    if (Commutes(op) && !InAcc(a) && InAcc(b)) std::swap(a, b);
    IOp eff = WithAcc(op, a);
    stack_.pop_back();
    stack_.pop_back();
    uint64_t d = PushSlot();
    Emit(eff); Word(d); Word(a); Word(b);
    Produced(code_.size() - 3);
  }
  void Load(IOp op, uint32_t offset) {
    uint64_t a = PopSlot();
    IOp eff = WithAcc(op, a);
    uint64_t d = PushSlot();
    Emit(eff); Word(d); Word(a); Word(offset);
    Produced(code_.size() - 3);
  }
  void StoreOp(IOp op, uint32_t offset) {
    uint64_t v = SlotOf(H() - 1);
    uint64_t a = SlotOf(H() - 2);
    IOp vv = Acc().value_variant[static_cast<size_t>(op)];
    IOp eff = vv != IOp::kCount && InAcc(v) ? vv : WithAcc(op, a);
    stack_.pop_back();
    stack_.pop_back();
    Emit(eff); Word(a); Word(v); Word(offset);
  }

  // Any lazy reference to `local` on the stack must be read before the local changes.
  void FlushLocal(uint32_t local) {
    for (uint32_t i = 0; i < H(); ++i)
      if (stack_[i].kind == Entry::kLocal && stack_[i].local == local) Materialize(i);
  }
  void SetLocal(uint32_t local, bool tee) {
    Entry top = stack_.back();
    if (top.kind == Entry::kLocal && top.local == local) {  // local.get x; local.set x
      if (!tee) stack_.pop_back();
      return;
    }
    // A declared local is zero on entry: setting it to zero before anything could have
    // written it changes nothing (clang emits `i32.const 0; local.set` at the top of
    // functions, such as fib's, on every call).
    if (top.kind == Entry::kConst && top.bits == 0 && from_entry_ && local >= num_params_ &&
        !written_[local]) {
      stack_.pop_back();
      if (tee) stack_.push_back(Entry{Entry::kLocal, local, 0});
      return;
    }
    written_[local] = 1;
    // The previous instruction produced the top value: retarget it to the local.
    bool patchable = top.kind == Entry::kSlot && producer_word_ != kNone &&
                     producer_height_ == H() && code_[producer_word_] == PosSlot(H() - 1);
    size_t producer = producer_word_;
    stack_.pop_back();
    size_t before = code_.size();
    FlushLocal(local);
    if (patchable && code_.size() == before) {
      // The producer now writes the local, and its result is still in the accumulator
      // (InAcc): the next instruction may read it from there.
      code_[producer] = local;
    } else if (top.kind == Entry::kConst) {
      EmitConst(local, top.bits);
    } else {
      uint64_t src = top.kind == Entry::kLocal ? top.local : PosSlot(H());
      Emit(IOp::kCopy); Word(local); Word(src);
    }
    if (tee) stack_.push_back(Entry{Entry::kLocal, local, 0});
  }

  // ---- branches ----
  uint32_t Arity(const Ctrl& c) const { return c.kind == Ctrl::kLoop ? c.nparams : c.nresults; }
  // Moves the top `Arity(c)` values to the label's slots.
  void BranchCopies(const Ctrl& c) {
    uint32_t n = Arity(c);
    uint32_t h = H();
    uint64_t dest0 = c.kind == Ctrl::kFunc ? 0 : PosSlot(c.base);
    if (c.kind == Ctrl::kFunc) {
      // Destinations are locals 0..n-1, which lazy entries may reference: the result k
      // copied below reads local x after results 0..k-1 were written, so x < k must be
      // materialised first. (A function ending in "local.get 0" copies nothing.)
      for (uint32_t k = 0; k < n; ++k) {
        const Entry& e = stack_[h - n + k];
        if (e.kind == Entry::kLocal && e.local < k) Materialize(h - n + k);
      }
    }
    // A single value just produced by the previous instruction: retarget that instruction
    // to the label's slot. (Any emission since, such as a conditional branch, resets the
    // producer, so this only happens on unconditional paths.)
    if (n == 1 && stack_[h - 1].kind == Entry::kSlot && producer_word_ != kNone &&
        producer_height_ == h && code_[producer_word_] == PosSlot(h - 1)) {
      code_[producer_word_] = dest0;
      producer_word_ = kNone;
      return;
    }
    for (uint32_t k = 0; k < n; ++k) {
      const Entry& e = stack_[h - n + k];
      uint64_t dest = dest0 + k;
      if (e.kind == Entry::kConst) {
        EmitConst(dest, e.bits);
      } else {
        uint64_t src = e.kind == Entry::kLocal ? e.local : PosSlot(h - n + k);
        if (src != dest) { Emit(IOp::kCopy); Word(dest); Word(src); }
      }
    }
  }
  bool NeedsCopies(const Ctrl& c) const {
    uint32_t n = Arity(c);
    uint32_t h = H();
    uint64_t dest0 = c.kind == Ctrl::kFunc ? 0 : PosSlot(c.base);
    for (uint32_t k = 0; k < n; ++k) {
      const Entry& e = stack_[h - n + k];
      if (e.kind != Entry::kSlot || PosSlot(h - n + k) != dest0 + k) return true;
    }
    return false;
  }
  // Writes the branch target of the operand at `word` (instruction at `instr`).
  void Target(Ctrl& c, size_t word, size_t instr) {
    if (c.kind == Ctrl::kLoop) {
      code_[word] = BranchWord(c.loop_pc, instr);
    } else {
      AddFixup(c, word, instr);
    }
  }
  void AddFixup(Ctrl& c, size_t word, size_t instr) {
    fixups_.push_back(Fixup{word, instr, c.first_fixup});
    c.first_fixup = static_cast<uint32_t>(fixups_.size() - 1);
  }
  void Bind(Ctrl& c) {
    from_entry_ = false;
    for (uint32_t i = c.first_fixup; i != kNoFixup; i = fixups_[i].next)
      code_[fixups_[i].word] = BranchWord(code_.size(), fixups_[i].instr);
    c.first_fixup = kNoFixup;
    producer_word_ = kNone;
  }
  // Unconditional branch to label `depth` (values on top of the stack).
  void EmitBr(uint32_t depth) {
    Ctrl& c = ctrls_[ctrls_.size() - 1 - depth];
    BranchCopies(c);
    if (c.kind == Ctrl::kFunc) {
      Emit(IOp::kReturn);
      return;
    }
    size_t at = Emit(IOp::kBr);
    Word(0);
    Target(c, at + 1, at);
  }

  // A branch condition: a slot, or an integer compare whose instruction was removed so
  // that the branch can test it directly.
  struct Cond {
    uint64_t slot = 0;
    IOp cmp = IOp::kCount;  // kCount: plain slot
    uint64_t a = 0, b = 0;
  };
  static bool FusedFor(IOp cmp, bool negate, IOp* out) {
    struct Row { IOp cmp, if_true, if_false; };
#define ROW(T, C, N) {IOp::k##T##C, IOp::kBrIf##T##C, IOp::kBrIf##T##N}
    static const Row kRows[] = {
        ROW(I32, Eq, Ne), ROW(I32, Ne, Eq), ROW(I32, LtS, GeS), ROW(I32, LtU, GeU),
        ROW(I32, GtS, LeS), ROW(I32, GtU, LeU), ROW(I32, LeS, GtS), ROW(I32, LeU, GtU),
        ROW(I32, GeS, LtS), ROW(I32, GeU, LtU),
        ROW(I64, Eq, Ne), ROW(I64, Ne, Eq), ROW(I64, LtS, GeS), ROW(I64, LtU, GeU),
        ROW(I64, GtS, LeS), ROW(I64, GtU, LeU), ROW(I64, LeS, GtS), ROW(I64, LeU, GtU),
        ROW(I64, GeS, LtS), ROW(I64, GeU, LtU),
    };
#undef ROW
    for (const Row& r : kRows)
      if (r.cmp == cmp) { *out = negate ? r.if_false : r.if_true; return true; }
    return false;
  }
  Cond PopCond() {
    Cond c;
    bool fusable = stack_.back().kind == Entry::kSlot && producer_word_ != kNone &&
                   producer_height_ == H() && last_instr_ != kNone &&
                   producer_word_ == last_instr_ + 1 && code_[producer_word_] == PosSlot(H() - 1);
    IOp dummy;
    IOp last = fusable ? Acc().base[static_cast<size_t>(last_op_)] : IOp::kCount;
    if (fusable && (last == IOp::kI32Eqz || FusedFor(last, false, &dummy))) {
      c.cmp = last;
      c.a = code_[last_instr_ + 2];
      if (last != IOp::kI32Eqz) c.b = code_[last_instr_ + 3];
      code_.resize(last_instr_);
      instrs_.pop_back();
      while (!offsets_.empty() && offsets_.back().first >= last_instr_) offsets_.pop_back();
      last_instr_ = kNone;
      producer_word_ = kNone;
      stack_.pop_back();
      return c;
    }
    c.slot = PopSlot();
    return c;
  }
  // Emits a conditional branch taken when `c` is true (or false with `negate`); returns
  // the index of the instruction and sets *rel_word to its target operand.
  size_t EmitCondBr(const Cond& c, bool negate, size_t* rel_word) {
    size_t at;
    IOp fused = IOp::kUnreachable;
    if (c.cmp == IOp::kCount) {
      at = Emit(negate ? IOp::kBrUnless : IOp::kBrIf);
      Word(c.slot);
    } else if (c.cmp == IOp::kI32Eqz) {
      at = Emit(negate ? IOp::kBrIf : IOp::kBrUnless);
      Word(c.a);
    } else {
      FusedFor(c.cmp, negate, &fused);
      at = Emit(fused);
      Word(c.a);
      Word(c.b);
    }
    *rel_word = code_.size();
    Word(0);
    return at;
  }

  void EmitEnd();
  void EmitElse();

  FuncInst* func_;
  Instance* inst_;
  const Module& module_;
  const int32_t* handlers_;
  const uint8_t* bytes_ = nullptr;
  size_t pos_ = 0;
  uint32_t instr_offset_ = 0;
  bool record_offsets_ = false;  // only Locate records them
  uint32_t num_locals_ = 0;
  // Constant slots reserved after the locals; a constant beyond them is written into its
  // positional slot where it is used.
  uint32_t num_consts_ = 0;
  std::vector<TypeIdWord> type_id_words_;  // CompiledFunc::type_id_words
  bool embeds_address_ = false;
  uint32_t max_height_ = 0;
  CompilerBuffersLease buffers_;  // before the references into it
  std::vector<uint64_t>& const_values_ = buffers_->const_values;
  std::vector<CodeWord>& code_ = buffers_->code;
  std::vector<std::pair<uint32_t, uint32_t>>& offsets_ = buffers_->offsets;
  std::vector<Entry>& stack_ = buffers_->stack;
  std::vector<Ctrl>& ctrls_ = buffers_->ctrls;
  std::vector<Fixup>& fixups_ = buffers_->fixups;
  size_t producer_word_ = kNone;
  uint32_t producer_height_ = 0;
  size_t last_instr_ = kNone;
  IOp last_op_ = IOp::kUnreachable;
  std::vector<std::pair<uint32_t, IOp>>& instrs_ = buffers_->instrs;
  void FusePairs();
  uint32_t open_loops_ = 0;  // loops among ctrls_
  // Until the first label, loop or if, the code emitted runs straight from the entry, so
  // a declared local nothing wrote yet (written_) is still zero.
  bool from_entry_ = true;
  std::vector<uint8_t>& written_ = buffers_->written;
  uint32_t num_params_ = 0;
  void PopCtrl() {
    if (ctrls_.back().kind == Ctrl::kLoop) open_loops_--;
    ctrls_.pop_back();
  }
};

void Compiler::EmitEnd() {
  Ctrl& c = ctrls_.back();
  if (c.dead) {
    PopCtrl();
    return;
  }
  if (!c.unreachable) {
    if (c.kind == Ctrl::kFunc) {
      BranchCopies(c);
      Emit(IOp::kReturn);
    } else {
      MaterializeTop(c.nresults);
    }
  }
  if (c.kind == Ctrl::kIf && c.else_word != kNone) {
    code_[c.else_word] = BranchWord(code_.size(), c.else_instr);
  }
  Bind(c);
  stack_.resize(c.base);
  uint32_t nr = c.nresults;
  bool was_func = c.kind == Ctrl::kFunc;
  PopCtrl();
  if (!was_func) PushSlots(nr);
}

void Compiler::EmitElse() {
  Ctrl& c = ctrls_.back();
  if (c.dead) return;
  if (!c.unreachable) {
    MaterializeTop(c.nresults);
    size_t at = Emit(IOp::kBr);
    Word(0);
    AddFixup(c, at + 1, at);
  }
  code_[c.else_word] = BranchWord(code_.size(), c.else_instr);
  c.else_word = kNone;
  producer_word_ = kNone;
  stack_.resize(c.base);
  PushSlots(c.nparams);
  c.unreachable = false;
}

std::unique_ptr<CompiledFunc> Compiler::Run() {
  std::unique_ptr<CompiledFunc> out = Translate();
  out->own_consts = const_values_;
  out->own_code.assign(code_.begin(), code_.end());  // exactly sized: the buffers stay here
  out->consts = out->own_consts;
  out->code = out->own_code;
  out->type_id_words = type_id_words_;
  out->embeds_address = embeds_address_;
  return out;
}

CodeLocations Compiler::Locate(const CompiledFunc& compiled) {
  record_offsets_ = true;
  Translate();
  if (!std::equal(code_.begin(), code_.end(), compiled.code.begin(), compiled.code.end()))
    return CodeLocations();
  return CodeLocations(offsets_);
}

std::unique_ptr<CompiledFunc> Compiler::Translate() {
  code_.clear();
  offsets_.clear();
  stack_.clear();
  ctrls_.clear();
  instrs_.clear();
  open_loops_ = 0;
  fixups_.clear();
  const_values_.clear();
  type_id_words_.clear();
  embeds_address_ = false;
  producer_word_ = kNone;
  const Function& fn = module_.DefinedFunction(func_->func_index);
  // The validator counted the body's distinct constants, so the operand slots can start
  // after that many constant slots before anything is translated. A constant that is
  // never read from its slot (one only stored to a local, say) leaves its slot unused in
  // the frame: cheaper than translating the body a second time.
  num_consts_ = fn.distinct_consts;
  const FuncType& type = *func_->type;
  auto out = std::make_unique<CompiledFunc>();
  out->num_params = static_cast<uint32_t>(type.params.size());
  out->num_results = static_cast<uint32_t>(type.results.size());
  num_locals_ = out->num_params + fn.num_locals;
  out->num_locals = num_locals_;
  num_params_ = out->num_params;
  written_.assign(num_locals_, 0);
  from_entry_ = true;

  bytes_ = module_.bytes.data();
  pos_ = fn.body_offset;
  size_t end = fn.body_offset + fn.body_size;
  // Results of the function may need more slots than params + locals + operands.
  max_height_ = out->num_results;

  Ctrl func_ctrl;
  func_ctrl.kind = Ctrl::kFunc;
  func_ctrl.nresults = out->num_results;
  ctrls_.push_back(std::move(func_ctrl));

  while (pos_ < end && !ctrls_.empty()) {
    instr_offset_ = static_cast<uint32_t>(pos_);
    uint8_t b = Byte();
    Op op;
    if (b == 0xFC) {
      uint32_t sub = ReadU32();
      switch (sub) {
#define WEFT_OP(prefix, code, Name, text) \
  case (prefix == 0xFC ? code : 0x10000 + code): op = Op::Name; break;
#include "wasm/opcodes.def"
#undef WEFT_OP
        default: op = Op::Unreachable; break;
      }
    } else {
      switch (static_cast<uint32_t>(b)) {
#define WEFT_OP(prefix, code, Name, text) \
  case (prefix == 0 ? code : 0x10000 + code): op = Op::Name; break;
#include "wasm/opcodes.def"
#undef WEFT_OP
        default: op = Op::Unreachable; break;
      }
    }
    const bool dead = ctrls_.back().unreachable;
#define LIVE() \
  if (dead) break

    switch (op) {
      case Op::Unreachable:
        LIVE();
        Emit(IOp::kUnreachable);
        ctrls_.back().unreachable = true;
        break;
      case Op::Nop:
        break;
      case Op::Block:
      case Op::Loop:
      case Op::If: {
        uint32_t np, nr;
        ReadBlockType(&np, &nr);
        Ctrl c;
        c.kind = op == Op::Block ? Ctrl::kBlock : op == Op::Loop ? Ctrl::kLoop : Ctrl::kIf;
        c.nparams = np;
        c.nresults = nr;
        if (op == Op::Loop) open_loops_++;
        if (op != Op::Block) from_entry_ = false;
        if (dead) {
          c.dead = true;
          c.unreachable = true;
          ctrls_.push_back(std::move(c));
          break;
        }
        Cond cond;
        if (op == Op::If) cond = PopCond();
        MaterializeAll();
        c.base = H() - np;
        if (op == Op::Loop) {
          producer_word_ = kNone;
          c.loop_pc = code_.size();  // back-edges check the interrupt flag (dispatch.cc)
        } else if (op == Op::If) {
          size_t rel_word;
          size_t at = EmitCondBr(cond, /*negate=*/true, &rel_word);
          c.else_word = rel_word;
          c.else_instr = at;
        }
        ctrls_.push_back(std::move(c));
        break;
      }
      case Op::Else:
        EmitElse();
        break;
      case Op::End:
        EmitEnd();
        break;
      case Op::Br: {
        uint32_t depth = ReadU32();
        LIVE();
        EmitBr(depth);
        ctrls_.back().unreachable = true;
        break;
      }
      case Op::BrIf: {
        uint32_t depth = ReadU32();
        LIVE();
        Cond cond = PopCond();
        Ctrl& c = ctrls_[ctrls_.size() - 1 - depth];
        size_t rel_word;
        if (c.kind != Ctrl::kFunc && !NeedsCopies(c)) {
          size_t at = EmitCondBr(cond, /*negate=*/false, &rel_word);
          Target(c, rel_word, at);
        } else {
          size_t at = EmitCondBr(cond, /*negate=*/true, &rel_word);
          EmitBr(depth);
          code_[rel_word] = code_.size() - at;
          producer_word_ = kNone;
        }
        break;
      }
      case Op::BrTable: {
        uint32_t n = ReadU32();
        std::vector<uint32_t> depths(n + 1);
        for (uint32_t i = 0; i <= n; ++i) depths[i] = ReadU32();
        LIVE();
        from_entry_ = false;  // its stubs below are branch targets
        uint64_t idx = PopSlot();
        size_t at = Emit(IOp::kBrTable);
        Word(idx);
        Word(n);
        size_t table = code_.size();
        for (uint32_t i = 0; i <= n; ++i) Word(0);
        for (uint32_t i = 0; i <= n; ++i) {
          Ctrl& c = ctrls_[ctrls_.size() - 1 - depths[i]];
          if (c.kind != Ctrl::kFunc && !NeedsCopies(c)) {
            Target(c, table + i, at);
          } else {
            // An out-of-line stub moves the values, then branches.
            code_[table + i] = BranchWord(code_.size(), at);
            EmitBr(depths[i]);
          }
        }
        ctrls_.back().unreachable = true;
        break;
      }
      case Op::Return:
        LIVE();
        EmitBr(static_cast<uint32_t>(ctrls_.size() - 1));
        ctrls_.back().unreachable = true;
        break;
      case Op::Call: {
        uint32_t fidx = ReadU32();
        LIVE();
        std::optional<Forward> forward = ForwardOf(*inst_, fidx);
        if (forward) fidx = forward->target;
        FuncInst* callee = inst_->funcs[fidx];
        uint32_t np = static_cast<uint32_t>(callee->type->params.size());
        uint32_t nr = static_cast<uint32_t>(callee->type->results.size());
        MaterializeTop(np);
        uint64_t fp_off = PosSlot(H() - np);
        Emit(IOp::kCall);
        Word(fidx);
        Word(fp_off);
        stack_.resize(H() - np);
        PushSlots(nr);
        if (forward && forward->masked) {  // the wrapper's i32.and, inline
          PushConst(forward->mask);
          Binary(IOp::kI32And);
        }
        break;
      }
      case Op::CallIndirect: {
        uint32_t tidx = ReadU32();
        uint32_t table = ReadU32();
        LIVE();
        const FuncType& t = module_.types[tidx];
        uint32_t np = static_cast<uint32_t>(t.params.size());
        uint32_t nr = static_cast<uint32_t>(t.results.size());
        uint64_t idx = PopSlot();
        MaterializeTop(np);
        uint64_t fp_off = PosSlot(H() - np);
        Emit(IOp::kCallIndirect);
        Word(table);
        type_id_words_.push_back({static_cast<uint32_t>(code_.size()), tidx});
        Word(inst_->type_ids[tidx]);
        Word(idx);
        Word(fp_off);
        stack_.resize(H() - np);
        PushSlots(nr);
        break;
      }
      case Op::RefNull:
        Byte();
        LIVE();
        PushConst(0);
        break;
      case Op::RefIsNull:
        LIVE();
        Unary(IOp::kRefIsNull);
        break;
      case Op::RefFunc: {
        uint32_t fidx = ReadU32();
        LIVE();
        PushConst(reinterpret_cast<uint64_t>(inst_->funcs[fidx]));
        embeds_address_ = true;
        break;
      }
      case Op::Drop:
        LIVE();
        stack_.pop_back();
        break;
      case Op::Select:
      case Op::SelectT: {
        if (op == Op::SelectT) {
          uint32_t n = ReadU32();
          for (uint32_t i = 0; i < n; ++i) Byte();
        }
        LIVE();
        uint64_t cond = SlotOf(H() - 1);
        uint64_t vb = SlotOf(H() - 2);
        uint64_t va = SlotOf(H() - 3);
        stack_.resize(H() - 3);
        uint64_t d = PushSlot();
        Emit(IOp::kSelect); Word(d); Word(va); Word(vb); Word(cond);
        Produced(code_.size() - 4);
        break;
      }
      case Op::LocalGet: {
        uint32_t x = ReadU32();
        LIVE();
        stack_.push_back(Entry{Entry::kLocal, x, 0});
        if (H() > max_height_) max_height_ = H();
        break;
      }
      case Op::LocalSet:
      case Op::LocalTee: {
        uint32_t x = ReadU32();
        LIVE();
        SetLocal(x, op == Op::LocalTee);
        break;
      }
      case Op::GlobalGet: {
        uint32_t g = ReadU32();
        LIVE();
        uint64_t d = PushSlot();
        Emit(IOp::kGlobalGet); Word(d); Word(g);
        Produced(code_.size() - 2);
        break;
      }
      case Op::GlobalSet: {
        uint32_t g = ReadU32();
        LIVE();
        uint64_t s = PopSlot();
        Emit(IOp::kGlobalSet); Word(g); Word(s);
        break;
      }
      case Op::TableGet: {
        uint32_t t = ReadU32();
        LIVE();
        uint64_t i = PopSlot();
        uint64_t d = PushSlot();
        Emit(IOp::kTableGet); Word(d); Word(t); Word(i);
        Produced(code_.size() - 3);
        break;
      }
      case Op::TableSet: {
        uint32_t t = ReadU32();
        LIVE();
        uint64_t v = SlotOf(H() - 1);
        uint64_t i = SlotOf(H() - 2);
        stack_.resize(H() - 2);
        Emit(IOp::kTableSet); Word(t); Word(i); Word(v);
        break;
      }
      case Op::TableInit: {
        uint32_t seg = ReadU32();
        uint32_t t = ReadU32();
        LIVE();
        uint64_t n = SlotOf(H() - 1), s = SlotOf(H() - 2), d = SlotOf(H() - 3);
        stack_.resize(H() - 3);
        Emit(IOp::kTableInit); Word(t); Word(seg);
        Word(d); Word(s); Word(n);
        break;
      }
      case Op::ElemDrop: {
        uint32_t seg = ReadU32();
        LIVE();
        Emit(IOp::kElemDrop); Word(seg);
        break;
      }
      case Op::TableCopy: {
        uint32_t dt = ReadU32();
        uint32_t st = ReadU32();
        LIVE();
        uint64_t n = SlotOf(H() - 1), s = SlotOf(H() - 2), d = SlotOf(H() - 3);
        stack_.resize(H() - 3);
        Emit(IOp::kTableCopy); Word(dt);
        Word(st); Word(d); Word(s); Word(n);
        break;
      }
      case Op::TableGrow: {
        uint32_t t = ReadU32();
        LIVE();
        uint64_t delta = SlotOf(H() - 1), init = SlotOf(H() - 2);
        stack_.resize(H() - 2);
        uint64_t d = PushSlot();
        Emit(IOp::kTableGrow); Word(d); Word(t);
        Word(init); Word(delta);
        break;
      }
      case Op::TableSize: {
        uint32_t t = ReadU32();
        LIVE();
        uint64_t d = PushSlot();
        Emit(IOp::kTableSize); Word(d); Word(t);
        break;
      }
      case Op::TableFill: {
        uint32_t t = ReadU32();
        LIVE();
        uint64_t n = SlotOf(H() - 1), v = SlotOf(H() - 2), i = SlotOf(H() - 3);
        stack_.resize(H() - 3);
        Emit(IOp::kTableFill); Word(t); Word(i);
        Word(v); Word(n);
        break;
      }
#define LOAD_CASE(Name)                 \
  case Op::Name: {                      \
    ReadU32();                          \
    uint32_t off = ReadU32();           \
    LIVE();                             \
    Load(IOp::k##Name, off);            \
    break;                              \
  }
#define STORE_CASE(Name)                \
  case Op::Name: {                      \
    ReadU32();                          \
    uint32_t off = ReadU32();           \
    LIVE();                             \
    StoreOp(IOp::k##Name, off);         \
    break;                              \
  }
#define IOP(Name)
#define IOP_LOAD(Name) LOAD_CASE(Name)
#define IOP_STORE(Name) STORE_CASE(Name)
#define IOP_UN(Name) \
  case Op::Name:     \
    LIVE();          \
    Unary(IOp::k##Name); \
    break;
#define IOP_BIN(Name) \
  case Op::Name:      \
    LIVE();           \
    Binary(IOp::k##Name); \
    break;
#include "wasm/interp/iops.def"
#undef IOP
#undef LOAD_CASE
#undef STORE_CASE
      case Op::MemorySize: {
        Byte();
        LIVE();
        uint64_t d = PushSlot();
        Emit(IOp::kMemorySize); Word(d);
        Produced(code_.size() - 1);
        break;
      }
      case Op::MemoryGrow: {
        Byte();
        LIVE();
        Unary(IOp::kMemoryGrow);
        break;
      }
      case Op::MemoryInit: {
        uint32_t seg = ReadU32();
        Byte();
        LIVE();
        uint64_t n = SlotOf(H() - 1), s = SlotOf(H() - 2), d = SlotOf(H() - 3);
        stack_.resize(H() - 3);
        Emit(IOp::kMemoryInit); Word(seg); Word(d); Word(s); Word(n);
        break;
      }
      case Op::DataDrop: {
        uint32_t seg = ReadU32();
        LIVE();
        Emit(IOp::kDataDrop); Word(seg);
        break;
      }
      case Op::MemoryCopy: {
        Byte();
        Byte();
        LIVE();
        uint64_t n = SlotOf(H() - 1), s = SlotOf(H() - 2), d = SlotOf(H() - 3);
        stack_.resize(H() - 3);
        Emit(IOp::kMemoryCopy); Word(d); Word(s); Word(n);
        break;
      }
      case Op::MemoryFill: {
        Byte();
        LIVE();
        uint64_t n = SlotOf(H() - 1), v = SlotOf(H() - 2), d = SlotOf(H() - 3);
        stack_.resize(H() - 3);
        Emit(IOp::kMemoryFill); Word(d); Word(v); Word(n);
        break;
      }
      case Op::I32Const: {
        int64_t v = ReadS();
        LIVE();
        PushConst(static_cast<uint32_t>(v));
        break;
      }
      case Op::I64Const: {
        int64_t v = ReadS();
        LIVE();
        PushConst(static_cast<uint64_t>(v));
        break;
      }
      case Op::F32Const: {
        uint32_t v;
        std::memcpy(&v, bytes_ + pos_, 4);
        pos_ += 4;
        LIVE();
        PushConst(v);
        break;
      }
      case Op::F64Const: {
        uint64_t v;
        std::memcpy(&v, bytes_ + pos_, 8);
        pos_ += 8;
        LIVE();
        PushConst(v);
        break;
      }
    }
#undef LIVE
  }
  out->frame_slots = num_locals_ + num_consts_ + max_height_;
  FusePairs();
  return out;
}

// Gives the first of two instructions in a row the handler of their pair (iops.def).
// A branch may still land on the second: it keeps its own handler word, which then runs
// alone. (A second instruction that reads the accumulator never follows a label: the
// translation above emits such variants only right after the instruction they read.)
// From the last instruction back, so that a loop's closing add and compare-and-branch
// pair up rather than the add and the instruction before it.
void Compiler::FusePairs() {
  for (size_t i = instrs_.size(); i >= 2;) {
    auto [at, first] = instrs_[i - 2];
    IOp second = instrs_[i - 1].second;
    // An accumulator variant's operand is also in its slot, so the pair of its base op
    // does the same.
    IOp pair = IOp::kCount;
    for (IOp f : {first, Acc().base[static_cast<size_t>(first)]}) {
      for (IOp s : {second, Acc().base[static_cast<size_t>(second)]}) {
        if (pair == IOp::kCount) pair = PairOf(f, s);
      }
    }
    if (pair == IOp::kCount) {
      i -= 1;
      continue;
    }
    code_[at] = HandlerWord(handlers_, pair);
    i -= 2;  // the first instruction is taken: it runs in this pair
  }
}

// The function's code from the instance's code cache entry, made this store's: null when
// the entry lacks it.
std::unique_ptr<CompiledFunc> FromTranslated(const FuncInst& func) {
  const Instance& inst = *func.instance;
  if (!inst.translated) return nullptr;
  const auto& t = inst.translated->funcs[func.func_index - inst.module->num_imported_funcs];
  if (!t) return nullptr;
  // The frame the code expects must be the one its type and locals make (a damaged entry
  // that passed the checksum is translated afresh rather than trusted).
  const Function& fn = inst.module->DefinedFunction(func.func_index);
  if (t->num_params != func.type->params.size() || t->num_results != func.type->results.size() ||
      t->num_locals != t->num_params + fn.num_locals ||
      t->frame_slots < t->num_locals + t->consts.size() || t->frame_slots < t->num_results) {
    return nullptr;
  }
  auto out = std::make_unique<CompiledFunc>();
  out->num_params = t->num_params;
  out->num_results = t->num_results;
  out->num_locals = t->num_locals;
  out->frame_slots = t->frame_slots;
  out->consts = t->consts;
  // The entry's words are used in place when every store type id in them is this store's
  // already, as in every run of the same command (the store interns the same types in the
  // same order); otherwise the code is copied and those words rewritten.
  bool fits = true;
  for (size_t k = 0; k + 1 < t->type_id_words.size(); k += 2) {
    TypeIdWord w{t->type_id_words[k], t->type_id_words[k + 1]};
    if (w.word >= t->code.size() || w.type_index >= inst.type_ids.size()) return nullptr;
    fits = fits && t->code[w.word] == inst.type_ids[w.type_index];
    out->type_id_words.push_back(w);
  }
  if (fits) {
    out->code = t->code;
  } else {
    out->own_code.assign(t->code.begin(), t->code.end());
    for (const TypeIdWord& w : out->type_id_words) out->own_code[w.word] = inst.type_ids[w.type_index];
    out->code = out->own_code;
  }
  return out;
}

}  // namespace

CompiledFunc* CompileFunction(Store& store, FuncInst* func) {
  if (func->compiled) return static_cast<CompiledFunc*>(func->compiled);
  std::unique_ptr<CompiledFunc> out = FromTranslated(*func);
  if (!out) out = Compiler(func).Run();
  CompiledFunc* raw = out.get();
  store.objects().compiled.push_back(std::move(out));
  func->compiled = raw;
  if (jit::Enabled() && jit::HotThreshold() == 0) CompileNativeCode(store, func);
  return raw;
}

uint32_t CodeOffsetAt(FuncInst* func, size_t code_index) {
  auto* cf = static_cast<CompiledFunc*>(func->compiled);
  if (!cf->locations) cf->locations = std::make_unique<CodeLocations>(Compiler(func).Locate(*cf));
  return cf->locations->At(code_index);
}

void CompileNativeCode(Store& store, FuncInst* func) {
  auto* cf = static_cast<CompiledFunc*>(func->compiled);
  if (!cf || cf->native || !jit::Enabled()) return;
  auto& arena = store.objects().jit_arena;
  if (!arena) arena = std::make_unique<jit::CodeArena>();
  jit::CompileNative(*arena, func, cf);
}

}  // namespace weft::wasm
