// One-pass decoder + type checker for function bodies. The typing rules follow the
// spec's appendix algorithm (https://webassembly.github.io/spec/core/appendix/algorithm.html):
// an operand stack of value types with an "unknown" type for the polymorphic stack after
// unreachable/br/br_table/return, and a control stack of frames.
#include "wasm/validate/function_validator.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "wasm/decode/opcode.h"

namespace weft::wasm {
namespace {

constexpr ValType kUnknown = static_cast<ValType>(0);

constexpr ValType Vt(char c) {
  switch (c) {
    case 'i': return ValType::kI32;
    case 'I': return ValType::kI64;
    case 'f': return ValType::kF32;
    case 'F': return ValType::kF64;
  }
  return kUnknown;
}

// Signature of a simple numeric/conversion instruction, as "params>result" letters
// (i=i32 I=i64 f=f32 F=f64), or nullptr when `op` is not a simple numeric one.
constexpr const char* NumericSig(uint16_t op) {
  if (op == 0x45) return "i>i";
  if (op >= 0x46 && op <= 0x4F) return "ii>i";
  if (op == 0x50) return "I>i";
  if (op >= 0x51 && op <= 0x5A) return "II>i";
  if (op >= 0x5B && op <= 0x60) return "ff>i";
  if (op >= 0x61 && op <= 0x66) return "FF>i";
  if (op >= 0x67 && op <= 0x69) return "i>i";
  if (op >= 0x6A && op <= 0x78) return "ii>i";
  if (op >= 0x79 && op <= 0x7B) return "I>I";
  if (op >= 0x7C && op <= 0x8A) return "II>I";
  if (op >= 0x8B && op <= 0x91) return "f>f";
  if (op >= 0x92 && op <= 0x98) return "ff>f";
  if (op >= 0x99 && op <= 0x9F) return "F>F";
  if (op >= 0xA0 && op <= 0xA6) return "FF>F";
  switch (op) {
    case 0xA7: return "I>i";
    case 0xA8: case 0xA9: return "f>i";
    case 0xAA: case 0xAB: return "F>i";
    case 0xAC: case 0xAD: return "i>I";
    case 0xAE: case 0xAF: return "f>I";
    case 0xB0: case 0xB1: return "F>I";
    case 0xB2: case 0xB3: return "i>f";
    case 0xB4: case 0xB5: return "I>f";
    case 0xB6: return "F>f";
    case 0xB7: case 0xB8: return "i>F";
    case 0xB9: case 0xBA: return "I>F";
    case 0xBB: return "f>F";
    case 0xBC: return "f>i";
    case 0xBD: return "F>I";
    case 0xBE: return "i>f";
    case 0xBF: return "I>F";
    case 0xC0: case 0xC1: return "i>i";
    case 0xC2: case 0xC3: case 0xC4: return "I>I";
    case 0xFC00: case 0xFC01: return "f>i";
    case 0xFC02: case 0xFC03: return "F>i";
    case 0xFC04: case 0xFC05: return "f>I";
    case 0xFC06: case 0xFC07: return "F>I";
  }
  return nullptr;
}

// The one-byte numeric instructions' signatures decoded once, at compile time:
// n_params 0 means "not a simple numeric instruction".
struct NumericType {
  uint8_t n_params = 0;
  ValType params[2] = {kUnknown, kUnknown};
  ValType result = kUnknown;
};
struct NumericTable {
  NumericType ops[256];
};
constexpr NumericTable MakeNumericTable() {
  NumericTable t;
  for (int op = 0; op < 256; ++op) {
    const char* sig = NumericSig(static_cast<uint16_t>(op));
    if (sig == nullptr) continue;
    NumericType& n = t.ops[op];
    int k = 0;
    for (; sig[k] != '>'; ++k) n.params[k] = Vt(sig[k]);
    n.n_params = static_cast<uint8_t>(k);
    n.result = Vt(sig[k + 1]);
  }
  return t;
}
constexpr NumericTable kNumeric = MakeNumericTable();

// The operand stack of value types: a vector whose push is one compare and one store
// (std::vector::push_back was not inlined into the large instruction switch).
class TypeStack {
 public:
  TypeStack() : data_(64) {}
  size_t size() const { return size_; }
  [[gnu::always_inline]] void push_back(ValType t) {
    if (size_ == data_.size()) [[unlikely]] Grow();
    data_[size_++] = t;
  }
  ValType back() const { return data_[size_ - 1]; }
  void pop_back() { --size_; }
  void resize(size_t n) {
    while (n > data_.size()) Grow();
    for (size_t i = size_; i < n; ++i) data_[i] = kUnknown;
    size_ = n;
  }

 private:
  [[gnu::noinline]] void Grow() { data_.resize(data_.size() * 2); }
  std::vector<ValType> data_;
  size_t size_ = 0;
};

// Loads (0x28-0x35) and stores (0x36-0x3E): value type and log2 of the natural alignment.
struct MemOp {
  ValType type;
  uint32_t max_align;
  bool is_store;
};
MemOp MemOpInfo(uint8_t op) {
  static const struct { char t; uint8_t a; } kTable[] = {
      {'i', 2}, {'I', 3}, {'f', 2}, {'F', 3}, {'i', 0}, {'i', 0}, {'i', 1}, {'i', 1},
      {'I', 0}, {'I', 0}, {'I', 1}, {'I', 1}, {'I', 2}, {'I', 2},  // loads 0x28-0x35
      {'i', 2}, {'I', 3}, {'f', 2}, {'F', 3}, {'i', 0}, {'i', 1}, {'I', 0}, {'I', 1},
      {'I', 2},  // stores 0x36-0x3E
  };
  auto e = kTable[op - 0x28];
  return MemOp{Vt(e.t), e.a, op >= 0x36};
}

enum class BlockKind : uint8_t { kFunc, kBlock, kLoop, kIf, kElse };

struct BlockType {
  // kind 0: [] -> [], 1: [] -> [single], 2: type index
  uint8_t kind = 0;
  ValType single = kUnknown;
  uint32_t type_index = 0;
};

struct Frame {
  BlockKind kind;
  BlockType type;
  uint32_t height;      // operand stack height at entry (after params were popped)
  bool unreachable = false;
};

// A run of locals as the validator looks them up: one past its last local index.
struct LocalRunEnd {
  uint64_t end;
  ValType type;
};

}  // namespace

// The validator's working storage, kept by a BodyScratch across bodies.
struct BodyScratch::Buffers {
  std::vector<LocalRunEnd> local_runs;
  std::vector<ValType> flat_locals;
  TypeStack stack;
  std::vector<Frame> ctrl;
};

BodyScratch::BodyScratch() : buffers_(std::make_unique<Buffers>()) {}
BodyScratch::~BodyScratch() = default;

namespace {

class BodyDecoder {
 public:
  BodyDecoder(Reader& r, const BodyContext& ctx, std::optional<Diag>* invalid,
              BodyScratch::Buffers& buffers)
      : r_(r), ctx_(ctx), m_(*ctx.module), invalid_(invalid), valid_(!invalid->has_value()),
        local_runs_(buffers.local_runs), flat_locals_(buffers.flat_locals),
        stack_(buffers.stack), ctrl_(buffers.ctrl) {
    local_runs_.clear();
    flat_locals_.clear();
    stack_.resize(0);
    ctrl_.clear();
  }

  Result<void, Diag> Run(const FuncType* func_type, const std::vector<LocalRun>* locals);
  uint32_t distinct_consts() const { return num_consts_; }

 private:
  // ---- reading: a malformed binary stops decoding. The helpers return false after
  // storing the error in error_, so the per-instruction path carries a bool rather than
  // a Result (whose Diag holds a std::string) through every call. ----
  [[gnu::noinline, gnu::cold]] bool Malformed(size_t offset, const char* message) {
    error_ = Diag{offset, message};
    return false;
  }
  template <class T, class U>
  bool Take(Result<T, Diag>&& r, U* out) {
    if (!r.ok()) [[unlikely]] {
      error_ = std::move(r).error();
      return false;
    }
    *out = std::move(r).value();
    return true;
  }
  [[gnu::always_inline]] bool Byte(uint8_t* out) {
    if (r_.at_end()) [[unlikely]] return Malformed(r_.offset(), "unexpected end");
    *out = *r_.data();
    r_.Advance(1);
    return true;
  }
  // LEB128s: the one-byte form inline, anything longer through Reader's checked path.
  [[gnu::always_inline]] bool U32(uint32_t* out) {
    if (!r_.at_end() && *r_.data() < 0x80) [[likely]] {
      *out = *r_.data();
      r_.Advance(1);
      return true;
    }
    return Take(r_.ReadU32(), out);
  }
  // A constant's immediate, read and noted by its bit pattern as the compiler keeps it
  // (i32 and f32 zero-extended).
  [[gnu::always_inline]] bool ConstS32() {
    if (!r_.at_end() && *r_.data() < 0x80) [[likely]] {
      NoteConst(static_cast<uint32_t>(OneByteSigned(*r_.data())));
      r_.Advance(1);
      return true;
    }
    int32_t v;
    if (!Take(r_.ReadS32(), &v)) return false;
    NoteConst(static_cast<uint32_t>(v));
    return true;
  }
  [[gnu::always_inline]] bool ConstS64() {
    if (!r_.at_end() && *r_.data() < 0x80) [[likely]] {
      NoteConst(static_cast<uint64_t>(static_cast<int64_t>(OneByteSigned(*r_.data()))));
      r_.Advance(1);
      return true;
    }
    int64_t v;
    if (!Take(r_.ReadS64(), &v)) return false;
    NoteConst(static_cast<uint64_t>(v));
    return true;
  }
  template <class Bits>
  [[gnu::always_inline]] bool ConstBytes() {
    if (r_.remaining() < sizeof(Bits)) [[unlikely]] return Malformed(r_.offset(), "unexpected end");
    Bits v;
    std::memcpy(&v, r_.data(), sizeof(Bits));
    NoteConst(v);
    r_.Advance(sizeof(Bits));
    return true;
  }
  // A one-byte signed LEB128: seven bits, sign-extended.
  static int32_t OneByteSigned(uint8_t b) { return static_cast<int32_t>(b ^ 0x40) - 0x40; }
  // Counts distinct constant values up to Function::kMaxConstSlots (see Function).
  void NoteConst(uint64_t bits) {
    if (num_consts_ == Function::kMaxConstSlots) return;
    for (uint32_t i = 0; i < num_consts_; ++i)
      if (consts_[i] == bits) return;
    consts_[num_consts_++] = bits;
  }

  // ---- validation helpers: all are no-ops once the body is known to be invalid ----
  void Fail(std::string msg) {
    if (!valid_) return;
    valid_ = false;
    if (!invalid_->has_value()) *invalid_ = Diag{op_offset_, std::move(msg)};
  }
  [[gnu::always_inline]] void Push(ValType t) {
    if (valid_) stack_.push_back(t);
  }
  [[gnu::always_inline]] ValType Pop() {
    if (!valid_) return kUnknown;
    Frame& f = ctrl_.back();
    if (stack_.size() == f.height) {
      if (!f.unreachable) Fail("type mismatch");
      return kUnknown;
    }
    ValType t = stack_.back();
    stack_.pop_back();
    return t;
  }
  [[gnu::always_inline]] ValType Pop(ValType expect) {
    ValType t = Pop();
    if (valid_ && t != expect && t != kUnknown && expect != kUnknown) Fail("type mismatch");
    return t;
  }
  void PopVals(std::span<const ValType> types) {
    for (size_t i = types.size(); i-- > 0;) Pop(types[i]);
  }
  void PushVals(std::span<const ValType> types) {
    for (ValType t : types) Push(t);
  }

  std::span<const ValType> Params(const BlockType& bt) const {
    if (bt.kind == 2) return m_.types[bt.type_index].params;
    return {};
  }
  std::span<const ValType> Results(const BlockType& bt) const {
    if (bt.kind == 1) return {&bt.single, 1};
    if (bt.kind == 2) return m_.types[bt.type_index].results;
    return {};
  }
  std::span<const ValType> LabelTypes(const Frame& f) const {
    return f.kind == BlockKind::kLoop ? Params(f.type) : Results(f.type);
  }

  bool PushCtrl(BlockKind kind, BlockType bt) {
    if (ctrl_.size() >= ctx_.options->max_nesting_depth + 1u)
      return Malformed(op_offset_, "nesting depth too large");
    ctrl_.push_back(Frame{kind, bt, static_cast<uint32_t>(stack_.size()), false});
    if (valid_) PushVals(Params(bt));
    return true;
  }
  // Pops the frame (always) after checking its results (when still valid).
  Frame PopCtrl() {
    if (valid_) {
      Frame& f = ctrl_.back();
      PopVals(Results(f.type));
      if (valid_ && stack_.size() != f.height) Fail("type mismatch");
    }
    Frame f = ctrl_.back();
    ctrl_.pop_back();
    if (valid_) stack_.resize(f.height);
    return f;
  }
  void SetUnreachable() {
    if (!valid_) return;
    stack_.resize(ctrl_.back().height);
    ctrl_.back().unreachable = true;
  }
  bool CheckLabel(uint32_t depth) {
    if (depth >= ctrl_.size()) {
      Fail("unknown label");
      return false;
    }
    return true;
  }
  const Frame& LabelFrame(uint32_t depth) const { return ctrl_[ctrl_.size() - 1 - depth]; }

  bool CheckMemory(uint32_t index) {
    if (index >= m_.memories.size()) {
      Fail("unknown memory " + std::to_string(index));
      return false;
    }
    return true;
  }
  bool CheckTable(uint32_t index) {
    if (index >= m_.tables.size()) {
      Fail("unknown table " + std::to_string(index));
      return false;
    }
    return true;
  }
  bool CheckFunc(uint32_t index) {
    if (index >= m_.func_types.size()) {
      Fail("unknown function " + std::to_string(index));
      return false;
    }
    return true;
  }

  bool ReadBlockType(BlockType* bt);
  bool ReadMemArg(uint32_t max_align);
  bool ZeroByte() {
    uint8_t b = 0;
    if (!Byte(&b)) return false;
    if (b != 0) return Malformed(r_.offset() - 1, "zero byte expected");
    return true;
  }
  bool Instruction(uint8_t byte);
  bool PrefixedFC();
  [[gnu::always_inline]] inline bool FastInstruction(uint8_t byte);

  Reader& r_;
  const BodyContext& ctx_;
  const Module& m_;
  std::optional<Diag>* invalid_;
  Diag error_;  // the malformed-binary error, once a read helper has returned false
  bool valid_;
  size_t op_offset_ = 0;
  const FuncType* func_type_ = nullptr;
  uint64_t consts_[Function::kMaxConstSlots];  // the distinct constants noted so far
  uint32_t num_consts_ = 0;
  // Locals are looked up in their runs rather than expanded, so that many functions with
  // many locals cost time proportional to their encoded size.
  ValType LocalType(uint32_t x) const {
    if (x < flat_locals_.size()) return flat_locals_[x];
    const auto& params = func_type_->params;
    if (x < params.size()) return params[x];
    auto it = std::upper_bound(local_runs_.begin(), local_runs_.end(), uint64_t{x},
                               [](uint64_t v, const LocalRunEnd& r) { return v < r.end; });
    return it == local_runs_.end() ? kUnknown : it->type;
  }
  std::vector<LocalRunEnd>& local_runs_;
  // The types of the first kMaxFlatLocals locals (params included), one per index.
  static constexpr uint64_t kMaxFlatLocals = 512;
  std::vector<ValType>& flat_locals_;
  TypeStack& stack_;
  std::vector<Frame>& ctrl_;
};

bool BodyDecoder::ReadBlockType(BlockType* out) {
  if (r_.at_end()) return Malformed(r_.offset(), "unexpected end");
  const uint8_t b = *r_.data();
  BlockType& bt = *out;
  bt = BlockType{};
  if (b == 0x40) {
    r_.Advance(1);
    return true;
  }
  if (b == 0x7F || b == 0x7E || b == 0x7D || b == 0x7C || b == 0x70 || b == 0x6F) {
    r_.Advance(1);
    bt.kind = 1;
    bt.single = static_cast<ValType>(b);
    return true;
  }
  if (b == 0x7B) return Malformed(r_.offset(), "SIMD (v128) not supported yet");
  size_t at = r_.offset();
  int64_t idx;
  if (!Take(r_.ReadS33(), &idx)) return false;
  if (idx < 0) return Malformed(at, "malformed block type");
  bt.kind = 2;
  bt.type_index = static_cast<uint32_t>(idx);
  if (static_cast<uint64_t>(idx) >= m_.types.size()) {
    Fail("unknown type " + std::to_string(idx));
    bt.kind = 0;  // keep going for syntax
  }
  return true;
}

bool BodyDecoder::ReadMemArg(uint32_t max_align) {
  uint32_t align;
  if (!U32(&align)) return false;
  uint32_t offset;
  if (!U32(&offset)) return false;
  if (CheckMemory(0) && align > max_align) Fail("alignment must not be larger than natural");
  return true;
}

Result<void, Diag> BodyDecoder::Run(const FuncType* func_type,
                                    const std::vector<LocalRun>* locals) {
  func_type_ = func_type;
  if (func_type == nullptr) {
    valid_ = false;
  } else {
    uint64_t end = func_type->params.size();
    flat_locals_.assign(func_type->params.begin(), func_type->params.end());
    for (const LocalRun& run : *locals) {
      if (run.count == 0) continue;
      end += run.count;
      local_runs_.push_back(LocalRunEnd{end, run.type});
      if (flat_locals_.size() < kMaxFlatLocals)
        flat_locals_.resize(std::min(end, kMaxFlatLocals), run.type);
    }
  }
  BlockType fbt;
  ctrl_.reserve(16);
  ctrl_.push_back(Frame{BlockKind::kFunc, fbt, 0, false});
  while (!ctrl_.empty()) {
    op_offset_ = r_.offset();
    uint8_t byte = 0;
    if (!Byte(&byte)) return Err(std::move(error_));
    if (valid_ && FastInstruction(byte)) continue;
    if (!Instruction(byte)) return Err(std::move(error_));
  }
  return {};
}

// The most frequent instructions with one-byte immediates, checked inline in Run's loop;
// anything unusual (a longer LEB128, an unknown index, an invalid body) returns false
// before consuming anything and goes through Instruction(). Must type-check exactly as
// Instruction() does.
bool BodyDecoder::FastInstruction(uint8_t byte) {
  const uint8_t* p = r_.data();
  const size_t left = r_.remaining();
  if (const NumericType& n = kNumeric.ops[byte]; n.n_params != 0) {
    if (n.n_params == 2) Pop(n.params[1]);
    Pop(n.params[0]);
    Push(n.result);
    return true;
  }
  switch (byte) {
    case 0x20: case 0x21: case 0x22: {  // local.get/set/tee
      if (left < 1 || p[0] >= 0x80 || p[0] >= flat_locals_.size()) return false;
      ValType t = flat_locals_[p[0]];
      r_.Advance(1);
      if (byte == 0x20) {
        Push(t);
      } else {
        Pop(t);
        if (byte == 0x22) Push(t);
      }
      return true;
    }
    case 0x41:  // i32.const
      if (left < 1 || p[0] >= 0x80) return false;
      NoteConst(static_cast<uint32_t>(OneByteSigned(p[0])));
      r_.Advance(1);
      Push(ValType::kI32);
      return true;
    case 0x10: {  // call
      if (left < 1 || p[0] >= 0x80 || p[0] >= m_.func_types.size()) return false;
      r_.Advance(1);
      const FuncType& ft = m_.FuncTypeOf(p[0]);
      PopVals(ft.params);
      PushVals(ft.results);
      return true;
    }
    default:
      break;
  }
  if (byte >= 0x28 && byte <= 0x3E) {  // loads and stores
    if (left < 2 || p[0] >= 0x80 || p[1] >= 0x80 || m_.memories.empty()) return false;
    MemOp mo = MemOpInfo(byte);
    if (p[0] > mo.max_align) return false;
    r_.Advance(2);
    if (mo.is_store) {
      Pop(mo.type);
      Pop(ValType::kI32);
    } else {
      Pop(ValType::kI32);
      Push(mo.type);
    }
    return true;
  }
  return false;
}

bool BodyDecoder::Instruction(uint8_t byte) {
  switch (byte) {
    case 0x00:  // unreachable
      SetUnreachable();
      return true;
    case 0x01:  // nop
      return true;
    case 0x02:
    case 0x03: {  // block, loop
      BlockType bt;
      if (!ReadBlockType(&bt)) return false;
      if (valid_) PopVals(Params(bt));
      return PushCtrl(byte == 0x02 ? BlockKind::kBlock : BlockKind::kLoop, bt);
    }
    case 0x04: {  // if
      BlockType bt;
      if (!ReadBlockType(&bt)) return false;
      Pop(ValType::kI32);
      if (valid_) PopVals(Params(bt));
      return PushCtrl(BlockKind::kIf, bt);
    }
    case 0x05: {  // else
      if (ctrl_.back().kind != BlockKind::kIf) return Malformed(op_offset_, "END opcode expected");
      Frame f = PopCtrl();
      ctrl_.push_back(Frame{BlockKind::kElse, f.type, static_cast<uint32_t>(stack_.size()), false});
      if (valid_) {
        ctrl_.back().height = static_cast<uint32_t>(stack_.size());
        PushVals(Params(f.type));
      }
      return true;
    }
    case 0x0B: {  // end
      if (ctrl_.size() == 1) {
        // The function's own frame: results are the function's results.
        if (valid_) {
          PopVals(func_type_->results);
          if (valid_ && stack_.size() != ctrl_.back().height) Fail("type mismatch");
        }
        ctrl_.pop_back();
        return true;
      }
      Frame f = PopCtrl();
      if (f.kind == BlockKind::kIf && valid_) {
        // An `if` without `else` must leave its params as its results.
        auto p = Params(f.type);
        auto res = Results(f.type);
        if (!std::equal(p.begin(), p.end(), res.begin(), res.end())) Fail("type mismatch");
      }
      if (valid_) PushVals(Results(f.type));
      return true;
    }
    case 0x0C: {  // br
      uint32_t l;
      if (!U32(&l)) return false;
      if (valid_ && CheckLabel(l)) {
        if (ctrl_.size() - 1 == l) PopVals(func_type_->results);
        else PopVals(LabelTypes(LabelFrame(l)));
      }
      SetUnreachable();
      return true;
    }
    case 0x0D: {  // br_if
      uint32_t l;
      if (!U32(&l)) return false;
      Pop(ValType::kI32);
      if (valid_ && CheckLabel(l)) {
        auto types = ctrl_.size() - 1 == l ? std::span<const ValType>(func_type_->results)
                                           : LabelTypes(LabelFrame(l));
        PopVals(types);
        PushVals(types);
      }
      return true;
    }
    case 0x0E: {  // br_table
      uint32_t n;
      if (!Take(r_.ReadCount(1), &n)) return false;
      std::vector<uint32_t> labels(n);
      for (uint32_t i = 0; i < n; ++i) {
        if (!U32(&labels[i])) return false;
      }
      uint32_t def;
      if (!U32(&def)) return false;
      Pop(ValType::kI32);
      if (!valid_ || !CheckLabel(def)) return true;
      auto types_of = [&](uint32_t l) {
        return ctrl_.size() - 1 == l ? std::span<const ValType>(func_type_->results)
                                     : LabelTypes(LabelFrame(l));
      };
      size_t arity = types_of(def).size();
      for (uint32_t l : labels) {
        if (!CheckLabel(l)) return true;
        auto types = types_of(l);
        if (types.size() != arity) {
          Fail("type mismatch");
          return true;
        }
        // push_vals(pop_vals(types)): keep what was actually on the stack.
        std::vector<ValType> popped(types.size());
        for (size_t i = types.size(); i-- > 0;) popped[i] = Pop(types[i]);
        for (ValType t : popped) Push(t);
        if (!valid_) return true;
      }
      PopVals(types_of(def));
      SetUnreachable();
      return true;
    }
    case 0x0F:  // return
      if (valid_) PopVals(func_type_->results);
      SetUnreachable();
      return true;
    case 0x10: {  // call
      uint32_t f;
      if (!U32(&f)) return false;
      if (valid_ && CheckFunc(f)) {
        const FuncType& ft = m_.FuncTypeOf(f);
        PopVals(ft.params);
        PushVals(ft.results);
      }
      return true;
    }
    case 0x11: {  // call_indirect typeidx tableidx
      uint32_t ti;
      if (!U32(&ti)) return false;
      uint32_t table;
      if (!U32(&table)) return false;
      if (!valid_ || !CheckTable(table)) return true;
      if (m_.tables[table].elem != ValType::kFuncRef) {
        Fail("type mismatch");
        return true;
      }
      if (ti >= m_.types.size()) {
        Fail("unknown type " + std::to_string(ti));
        return true;
      }
      Pop(ValType::kI32);
      PopVals(m_.types[ti].params);
      PushVals(m_.types[ti].results);
      return true;
    }
    case 0x06: case 0x07: case 0x08: case 0x09: case 0x18: case 0x19:
      return Malformed(op_offset_, "exception handling not supported yet");
    case 0x1A:  // drop
      Pop();
      return true;
    case 0x1B: {  // select
      Pop(ValType::kI32);
      ValType t1 = Pop();
      ValType t2 = Pop();
      if (!valid_) return true;
      if (IsRefType(t1) || IsRefType(t2) || t1 == ValType::kV128 || t2 == ValType::kV128) {
        Fail("type mismatch");
        return true;
      }
      if (t1 != kUnknown && t2 != kUnknown && t1 != t2) {
        Fail("type mismatch");
        return true;
      }
      Push(t1 == kUnknown ? t2 : t1);
      return true;
    }
    case 0x1C: {  // select t*
      uint32_t n;
      if (!Take(r_.ReadCount(1), &n)) return false;
      std::vector<ValType> ts;
      for (uint32_t i = 0; i < n; ++i) {
        ValType t;
        if (!Take(ReadValType(r_), &t)) return false;
        ts.push_back(t);
      }
      if (n != 1) {
        Fail("invalid result arity");
        return true;
      }
      Pop(ValType::kI32);
      Pop(ts[0]);
      Pop(ts[0]);
      Push(ts[0]);
      return true;
    }
    case 0x20: case 0x21: case 0x22: {  // local.get/set/tee
      uint32_t x;
      if (!U32(&x)) return false;
      if (!valid_) return true;
      ValType t = LocalType(x);
      if (t == kUnknown) {
        Fail("unknown local " + std::to_string(x));
        return true;
      }
      if (byte == 0x20) {
        Push(t);
      } else {
        Pop(t);
        if (byte == 0x22) Push(t);
      }
      return true;
    }
    case 0x23: case 0x24: {  // global.get/set
      uint32_t x;
      if (!U32(&x)) return false;
      if (!valid_) return true;
      if (x >= m_.global_types.size()) {
        Fail("unknown global " + std::to_string(x));
        return true;
      }
      const GlobalType& g = m_.global_types[x];
      if (byte == 0x23) {
        Push(g.type);
      } else {
        if (!g.is_mutable) {
          Fail("global is immutable");
          return true;
        }
        Pop(g.type);
      }
      return true;
    }
    case 0x25: case 0x26: {  // table.get/set
      uint32_t x;
      if (!U32(&x)) return false;
      if (!valid_ || !CheckTable(x)) return true;
      ValType t = m_.tables[x].elem;
      if (byte == 0x25) {
        Pop(ValType::kI32);
        Push(t);
      } else {
        Pop(t);
        Pop(ValType::kI32);
      }
      return true;
    }
    case 0x3F: case 0x40: {  // memory.size / memory.grow
      if (!ZeroByte()) return false;
      if (!valid_ || !CheckMemory(0)) return true;
      if (byte == 0x40) Pop(ValType::kI32);
      Push(ValType::kI32);
      return true;
    }
    case 0x41:
      if (!ConstS32()) return false;
      Push(ValType::kI32);
      return true;
    case 0x42:
      if (!ConstS64()) return false;
      Push(ValType::kI64);
      return true;
    case 0x43:
      if (!ConstBytes<uint32_t>()) return false;
      Push(ValType::kF32);
      return true;
    case 0x44:
      if (!ConstBytes<uint64_t>()) return false;
      Push(ValType::kF64);
      return true;
    case 0xD0: {  // ref.null t
      ValType t;
      if (!Take(ReadRefType(r_), &t)) return false;
      Push(t);
      return true;
    }
    case 0xD1: {  // ref.is_null
      ValType t = Pop();
      if (valid_ && t != kUnknown && !IsRefType(t)) Fail("type mismatch");
      Push(ValType::kI32);
      return true;
    }
    case 0xD2: {  // ref.func x
      uint32_t x;
      if (!U32(&x)) return false;
      if (!valid_ || !CheckFunc(x)) return true;
      if (ctx_.declared_refs == nullptr || x >= ctx_.declared_refs->size() ||
          !(*ctx_.declared_refs)[x]) {
        Fail("undeclared function reference");
        return true;
      }
      Push(ValType::kFuncRef);
      return true;
    }
    case 0xFC:
      return PrefixedFC();
    case 0xFD:
      return Malformed(op_offset_, "SIMD (v128) not supported yet");
    default:
      break;
  }
  if (byte >= 0x28 && byte <= 0x3E) {
    MemOp mo = MemOpInfo(byte);
    if (!ReadMemArg(mo.max_align)) return false;
    if (!valid_) return true;
    if (mo.is_store) {
      Pop(mo.type);
      Pop(ValType::kI32);
    } else {
      Pop(ValType::kI32);
      Push(mo.type);
    }
    return true;
  }
  if (const NumericType& n = kNumeric.ops[byte]; n.n_params != 0) {
    if (!valid_) return true;
    if (n.n_params == 2) Pop(n.params[1]);
    Pop(n.params[0]);
    Push(n.result);
    return true;
  }
  return Malformed(op_offset_, "illegal opcode");
}

bool BodyDecoder::PrefixedFC() {
  uint32_t sub;
  if (!U32(&sub)) return false;
  auto need_data_count = [&]() { ctx_.uses_data_index = true; };
  auto check_data = [&](uint32_t x) {
    if (x >= m_.data_count.value_or(0)) {
      Fail("unknown data segment " + std::to_string(x));
      return false;
    }
    return true;
  };
  auto check_elem = [&](uint32_t x) {
    if (x >= ctx_.num_elem_segments) {
      Fail("unknown elem segment " + std::to_string(x));
      return false;
    }
    return true;
  };
  switch (sub) {
    case 8: {  // memory.init dataidx 0x00
      need_data_count();
      uint32_t x;
      if (!U32(&x)) return false;
      if (!ZeroByte()) return false;
      if (!valid_ || !CheckMemory(0) || !check_data(x)) return true;
      Pop(ValType::kI32);
      Pop(ValType::kI32);
      Pop(ValType::kI32);
      return true;
    }
    case 9: {  // data.drop
      need_data_count();
      uint32_t x;
      if (!U32(&x)) return false;
      if (valid_) check_data(x);
      return true;
    }
    case 10:  // memory.copy 0x00 0x00
      if (!ZeroByte()) return false;
      if (!ZeroByte()) return false;
      if (!valid_ || !CheckMemory(0)) return true;
      Pop(ValType::kI32);
      Pop(ValType::kI32);
      Pop(ValType::kI32);
      return true;
    case 11:  // memory.fill 0x00
      if (!ZeroByte()) return false;
      if (!valid_ || !CheckMemory(0)) return true;
      Pop(ValType::kI32);
      Pop(ValType::kI32);
      Pop(ValType::kI32);
      return true;
    case 12: {  // table.init elemidx tableidx
      uint32_t e;
      if (!U32(&e)) return false;
      uint32_t t;
      if (!U32(&t)) return false;
      if (!valid_ || !CheckTable(t) || !check_elem(e)) return true;
      if (m_.elems.size() > e && m_.elems[e].type != m_.tables[t].elem) {
        Fail("type mismatch");
        return true;
      }
      Pop(ValType::kI32);
      Pop(ValType::kI32);
      Pop(ValType::kI32);
      return true;
    }
    case 13: {  // elem.drop
      uint32_t e;
      if (!U32(&e)) return false;
      if (valid_) check_elem(e);
      return true;
    }
    case 14: {  // table.copy dst src
      uint32_t dst;
      if (!U32(&dst)) return false;
      uint32_t src;
      if (!U32(&src)) return false;
      if (!valid_ || !CheckTable(dst) || !CheckTable(src)) return true;
      if (m_.tables[dst].elem != m_.tables[src].elem) {
        Fail("type mismatch");
        return true;
      }
      Pop(ValType::kI32);
      Pop(ValType::kI32);
      Pop(ValType::kI32);
      return true;
    }
    case 15: case 16: case 17: {  // table.grow / table.size / table.fill
      uint32_t x;
      if (!U32(&x)) return false;
      if (!valid_ || !CheckTable(x)) return true;
      ValType t = m_.tables[x].elem;
      if (sub == 15) {
        Pop(ValType::kI32);
        Pop(t);
        Push(ValType::kI32);
      } else if (sub == 16) {
        Push(ValType::kI32);
      } else {
        Pop(ValType::kI32);
        Pop(t);
        Pop(ValType::kI32);
      }
      return true;
    }
    default:
      break;
  }
  if (sub <= 7) {
    if (!valid_) return true;
    const char* sig = NumericSig(static_cast<uint16_t>(0xFC00 | sub));
    Pop(Vt(sig[0]));
    Push(Vt(sig[2]));
    return true;
  }
  return Malformed(op_offset_, "illegal opcode");
}

}  // namespace

Result<ValType, Diag> ReadValType(Reader& r) {
  size_t at = r.offset();
  WEFT_TRY_ASSIGN(uint8_t b, r.ReadByte());
  // Types are 1-byte signed LEB128s in the reference interpreter's reading.
  if (b & 0x80) return Err(Diag{at, "integer representation too long"});
  switch (b) {
    case 0x7F: case 0x7E: case 0x7D: case 0x7C: case 0x70: case 0x6F:
      return static_cast<ValType>(b);
    case 0x7B:
      return Err(Diag{at, "SIMD (v128) not supported yet"});
  }
  return Err(Diag{at, "malformed value type"});
}

Result<ValType, Diag> ReadRefType(Reader& r) {
  size_t at = r.offset();
  WEFT_TRY_ASSIGN(uint8_t b, r.ReadByte());
  if (b == 0x70 || b == 0x6F) return static_cast<ValType>(b);
  if (b & 0x80) return Err(Diag{at, "integer representation too long"});
  return Err(Diag{at, "malformed reference type"});
}

Result<void, Diag> DecodeLocals(Reader& r, const DecodeOptions& options, Function* f) {
  // vec(count, valtype). The total is checked before anything is allocated.
  WEFT_TRY_ASSIGN(uint32_t runs, r.ReadCount(2));
  uint64_t total = 0;
  f->locals.clear();
  f->locals.reserve(runs);
  for (uint32_t i = 0; i < runs; ++i) {
    size_t at = r.offset();
    WEFT_TRY_ASSIGN(uint32_t count, r.ReadU32());
    total += count;
    if (total > options.max_function_locals) return Err(Diag{at, "too many locals"});
    WEFT_TRY_ASSIGN(ValType t, ReadValType(r));
    f->locals.push_back(LocalRun{count, t});
  }
  f->num_locals = static_cast<uint32_t>(total);
  f->body_offset = static_cast<uint32_t>(r.offset());
  return {};
}

Result<void, Diag> DecodeFunctionBody(Reader& r, const BodyContext& ctx, const FuncType* func_type,
                                      Function* f, std::optional<Diag>* invalid) {
  WEFT_TRY(DecodeLocals(r, *ctx.options, f));
  std::optional<BodyScratch> own_scratch;
  BodyScratch* scratch = ctx.scratch;
  if (scratch == nullptr) scratch = &own_scratch.emplace();
  BodyDecoder d(r, ctx, invalid, scratch->buffers());
  WEFT_TRY(d.Run(invalid->has_value() ? nullptr : func_type, &f->locals));
  f->body_size = static_cast<uint32_t>(r.offset() - f->body_offset);
  f->distinct_consts = d.distinct_consts();
  return {};
}

Result<void, Diag> SkipInstructions(Reader& r, const BodyContext& ctx) {
  std::optional<Diag> ignored = Diag{};  // set: syntax only
  BodyScratch scratch;  // not ctx.scratch: a constant expression may be read mid-body
  BodyDecoder d(r, ctx, &ignored, scratch.buffers());
  return d.Run(nullptr, nullptr);
}

}  // namespace weft::wasm
