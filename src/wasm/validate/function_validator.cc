// One-pass decoder + type checker for function bodies. The typing rules follow the
// spec's appendix algorithm (https://webassembly.github.io/spec/core/appendix/algorithm.html):
// an operand stack of value types with an "unknown" type for the polymorphic stack after
// unreachable/br/br_table/return, and a control stack of frames.
#include "wasm/validate/function_validator.h"

#include <algorithm>
#include <string>

#include "wasm/decode/opcode.h"

namespace weft::wasm {
namespace {

constexpr ValType kUnknown = static_cast<ValType>(0);

ValType Vt(char c) {
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
const char* NumericSig(uint16_t op) {
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

class BodyDecoder {
 public:
  BodyDecoder(Reader& r, const BodyContext& ctx, std::optional<Diag>* invalid)
      : r_(r), ctx_(ctx), m_(*ctx.module), invalid_(invalid), valid_(!invalid->has_value()) {}

  Result<void, Diag> Run(const FuncType* func_type, const std::vector<LocalRun>* locals);

 private:
  // ---- validation helpers: all are no-ops once the body is known to be invalid ----
  void Fail(std::string msg) {
    if (!valid_) return;
    valid_ = false;
    if (!invalid_->has_value()) *invalid_ = Diag{op_offset_, std::move(msg)};
  }
  void Push(ValType t) {
    if (valid_) stack_.push_back(t);
  }
  ValType Pop() {
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
  ValType Pop(ValType expect) {
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

  Result<void, Diag> PushCtrl(BlockKind kind, BlockType bt) {
    if (ctrl_.size() >= ctx_.options->max_nesting_depth + 1u)
      return Err(Diag{op_offset_, "nesting depth too large"});
    ctrl_.push_back(Frame{kind, bt, static_cast<uint32_t>(stack_.size()), false});
    if (valid_) PushVals(Params(bt));
    return {};
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

  Result<BlockType, Diag> ReadBlockType();
  Result<uint32_t, Diag> ReadMemArg(uint32_t max_align);
  Result<void, Diag> ZeroByte() {
    WEFT_TRY_ASSIGN(uint8_t b, r_.ReadByte());
    if (b != 0) return Err(Diag{r_.offset() - 1, "zero byte expected"});
    return {};
  }
  Result<void, Diag> Instruction(uint8_t byte);
  Result<void, Diag> PrefixedFC();

  Reader& r_;
  const BodyContext& ctx_;
  const Module& m_;
  std::optional<Diag>* invalid_;
  bool valid_;
  size_t op_offset_ = 0;
  const FuncType* func_type_ = nullptr;
  // Locals are looked up in their runs rather than expanded, so that many functions with
  // many locals cost time proportional to their encoded size.
  struct LocalRunEnd {
    uint64_t end;  // one past the last local index of the run
    ValType type;
  };
  ValType LocalType(uint32_t x) const {
    const auto& params = func_type_->params;
    if (x < params.size()) return params[x];
    auto it = std::upper_bound(local_runs_.begin(), local_runs_.end(), uint64_t{x},
                               [](uint64_t v, const LocalRunEnd& r) { return v < r.end; });
    return it == local_runs_.end() ? kUnknown : it->type;
  }
  std::vector<LocalRunEnd> local_runs_;
  std::vector<ValType> stack_;
  std::vector<Frame> ctrl_;
};

Result<BlockType, Diag> BodyDecoder::ReadBlockType() {
  WEFT_TRY_ASSIGN(uint8_t b, r_.PeekByte());
  BlockType bt;
  if (b == 0x40) {
    (void)r_.ReadByte();
    return bt;
  }
  if (b == 0x7F || b == 0x7E || b == 0x7D || b == 0x7C || b == 0x70 || b == 0x6F) {
    (void)r_.ReadByte();
    bt.kind = 1;
    bt.single = static_cast<ValType>(b);
    return bt;
  }
  if (b == 0x7B) return Err(r_.Error("SIMD (v128) not supported yet"));
  size_t at = r_.offset();
  WEFT_TRY_ASSIGN(int64_t idx, r_.ReadS33());
  if (idx < 0) return Err(Diag{at, "malformed block type"});
  bt.kind = 2;
  bt.type_index = static_cast<uint32_t>(idx);
  if (static_cast<uint64_t>(idx) >= m_.types.size()) {
    Fail("unknown type " + std::to_string(idx));
    bt.kind = 0;  // keep going for syntax
  }
  return bt;
}

Result<uint32_t, Diag> BodyDecoder::ReadMemArg(uint32_t max_align) {
  WEFT_TRY_ASSIGN(uint32_t align, r_.ReadU32());
  WEFT_TRY(r_.ReadU32());  // offset
  if (CheckMemory(0) && align > max_align) Fail("alignment must not be larger than natural");
  return align;
}

Result<void, Diag> BodyDecoder::Run(const FuncType* func_type,
                                    const std::vector<LocalRun>* locals) {
  func_type_ = func_type;
  if (func_type == nullptr) {
    valid_ = false;
  } else {
    uint64_t end = func_type->params.size();
    for (const LocalRun& run : *locals) {
      if (run.count == 0) continue;
      end += run.count;
      local_runs_.push_back(LocalRunEnd{end, run.type});
    }
  }
  BlockType fbt;
  stack_.reserve(64);
  ctrl_.reserve(16);
  ctrl_.push_back(Frame{BlockKind::kFunc, fbt, 0, false});
  while (!ctrl_.empty()) {
    op_offset_ = r_.offset();
    WEFT_TRY_ASSIGN(uint8_t byte, r_.ReadByte());
    WEFT_TRY(Instruction(byte));
  }
  return {};
}

Result<void, Diag> BodyDecoder::Instruction(uint8_t byte) {
  switch (byte) {
    case 0x00:  // unreachable
      SetUnreachable();
      return {};
    case 0x01:  // nop
      return {};
    case 0x02:
    case 0x03: {  // block, loop
      WEFT_TRY_ASSIGN(BlockType bt, ReadBlockType());
      if (valid_) PopVals(Params(bt));
      return PushCtrl(byte == 0x02 ? BlockKind::kBlock : BlockKind::kLoop, bt);
    }
    case 0x04: {  // if
      WEFT_TRY_ASSIGN(BlockType bt, ReadBlockType());
      Pop(ValType::kI32);
      if (valid_) PopVals(Params(bt));
      return PushCtrl(BlockKind::kIf, bt);
    }
    case 0x05: {  // else
      if (ctrl_.back().kind != BlockKind::kIf) return Err(Diag{op_offset_, "END opcode expected"});
      Frame f = PopCtrl();
      ctrl_.push_back(Frame{BlockKind::kElse, f.type, static_cast<uint32_t>(stack_.size()), false});
      if (valid_) {
        ctrl_.back().height = static_cast<uint32_t>(stack_.size());
        PushVals(Params(f.type));
      }
      return {};
    }
    case 0x0B: {  // end
      if (ctrl_.size() == 1) {
        // The function's own frame: results are the function's results.
        if (valid_) {
          PopVals(func_type_->results);
          if (valid_ && stack_.size() != ctrl_.back().height) Fail("type mismatch");
        }
        ctrl_.pop_back();
        return {};
      }
      Frame f = PopCtrl();
      if (f.kind == BlockKind::kIf && valid_) {
        // An `if` without `else` must leave its params as its results.
        auto p = Params(f.type);
        auto res = Results(f.type);
        if (!std::equal(p.begin(), p.end(), res.begin(), res.end())) Fail("type mismatch");
      }
      if (valid_) PushVals(Results(f.type));
      return {};
    }
    case 0x0C: {  // br
      WEFT_TRY_ASSIGN(uint32_t l, r_.ReadU32());
      if (valid_ && CheckLabel(l)) {
        if (ctrl_.size() - 1 == l) PopVals(func_type_->results);
        else PopVals(LabelTypes(LabelFrame(l)));
      }
      SetUnreachable();
      return {};
    }
    case 0x0D: {  // br_if
      WEFT_TRY_ASSIGN(uint32_t l, r_.ReadU32());
      Pop(ValType::kI32);
      if (valid_ && CheckLabel(l)) {
        auto types = ctrl_.size() - 1 == l ? std::span<const ValType>(func_type_->results)
                                           : LabelTypes(LabelFrame(l));
        PopVals(types);
        PushVals(types);
      }
      return {};
    }
    case 0x0E: {  // br_table
      WEFT_TRY_ASSIGN(uint32_t n, r_.ReadCount(1));
      std::vector<uint32_t> labels(n);
      for (uint32_t i = 0; i < n; ++i) {
        WEFT_TRY_ASSIGN(labels[i], r_.ReadU32());
      }
      WEFT_TRY_ASSIGN(uint32_t def, r_.ReadU32());
      Pop(ValType::kI32);
      if (!valid_ || !CheckLabel(def)) return {};
      auto types_of = [&](uint32_t l) {
        return ctrl_.size() - 1 == l ? std::span<const ValType>(func_type_->results)
                                     : LabelTypes(LabelFrame(l));
      };
      size_t arity = types_of(def).size();
      for (uint32_t l : labels) {
        if (!CheckLabel(l)) return {};
        auto types = types_of(l);
        if (types.size() != arity) {
          Fail("type mismatch");
          return {};
        }
        // push_vals(pop_vals(types)): keep what was actually on the stack.
        std::vector<ValType> popped(types.size());
        for (size_t i = types.size(); i-- > 0;) popped[i] = Pop(types[i]);
        for (ValType t : popped) Push(t);
        if (!valid_) return {};
      }
      PopVals(types_of(def));
      SetUnreachable();
      return {};
    }
    case 0x0F:  // return
      if (valid_) PopVals(func_type_->results);
      SetUnreachable();
      return {};
    case 0x10: {  // call
      WEFT_TRY_ASSIGN(uint32_t f, r_.ReadU32());
      if (valid_ && CheckFunc(f)) {
        const FuncType& ft = m_.FuncTypeOf(f);
        PopVals(ft.params);
        PushVals(ft.results);
      }
      return {};
    }
    case 0x11: {  // call_indirect typeidx tableidx
      WEFT_TRY_ASSIGN(uint32_t ti, r_.ReadU32());
      WEFT_TRY_ASSIGN(uint32_t table, r_.ReadU32());
      if (!valid_ || !CheckTable(table)) return {};
      if (m_.tables[table].elem != ValType::kFuncRef) {
        Fail("type mismatch");
        return {};
      }
      if (ti >= m_.types.size()) {
        Fail("unknown type " + std::to_string(ti));
        return {};
      }
      Pop(ValType::kI32);
      PopVals(m_.types[ti].params);
      PushVals(m_.types[ti].results);
      return {};
    }
    case 0x06: case 0x07: case 0x08: case 0x09: case 0x18: case 0x19:
      return Err(Diag{op_offset_, "exception handling not supported yet"});
    case 0x1A:  // drop
      Pop();
      return {};
    case 0x1B: {  // select
      Pop(ValType::kI32);
      ValType t1 = Pop();
      ValType t2 = Pop();
      if (!valid_) return {};
      if (IsRefType(t1) || IsRefType(t2) || t1 == ValType::kV128 || t2 == ValType::kV128) {
        Fail("type mismatch");
        return {};
      }
      if (t1 != kUnknown && t2 != kUnknown && t1 != t2) {
        Fail("type mismatch");
        return {};
      }
      Push(t1 == kUnknown ? t2 : t1);
      return {};
    }
    case 0x1C: {  // select t*
      WEFT_TRY_ASSIGN(uint32_t n, r_.ReadCount(1));
      std::vector<ValType> ts;
      for (uint32_t i = 0; i < n; ++i) {
        WEFT_TRY_ASSIGN(ValType t, ReadValType(r_));
        ts.push_back(t);
      }
      if (n != 1) {
        Fail("invalid result arity");
        return {};
      }
      Pop(ValType::kI32);
      Pop(ts[0]);
      Pop(ts[0]);
      Push(ts[0]);
      return {};
    }
    case 0x20: case 0x21: case 0x22: {  // local.get/set/tee
      WEFT_TRY_ASSIGN(uint32_t x, r_.ReadU32());
      if (!valid_) return {};
      ValType t = LocalType(x);
      if (t == kUnknown) {
        Fail("unknown local " + std::to_string(x));
        return {};
      }
      if (byte == 0x20) {
        Push(t);
      } else {
        Pop(t);
        if (byte == 0x22) Push(t);
      }
      return {};
    }
    case 0x23: case 0x24: {  // global.get/set
      WEFT_TRY_ASSIGN(uint32_t x, r_.ReadU32());
      if (!valid_) return {};
      if (x >= m_.global_types.size()) {
        Fail("unknown global " + std::to_string(x));
        return {};
      }
      const GlobalType& g = m_.global_types[x];
      if (byte == 0x23) {
        Push(g.type);
      } else {
        if (!g.is_mutable) {
          Fail("global is immutable");
          return {};
        }
        Pop(g.type);
      }
      return {};
    }
    case 0x25: case 0x26: {  // table.get/set
      WEFT_TRY_ASSIGN(uint32_t x, r_.ReadU32());
      if (!valid_ || !CheckTable(x)) return {};
      ValType t = m_.tables[x].elem;
      if (byte == 0x25) {
        Pop(ValType::kI32);
        Push(t);
      } else {
        Pop(t);
        Pop(ValType::kI32);
      }
      return {};
    }
    case 0x3F: case 0x40: {  // memory.size / memory.grow
      WEFT_TRY(ZeroByte());
      if (!valid_ || !CheckMemory(0)) return {};
      if (byte == 0x40) Pop(ValType::kI32);
      Push(ValType::kI32);
      return {};
    }
    case 0x41:
      WEFT_TRY(r_.ReadS32());
      Push(ValType::kI32);
      return {};
    case 0x42:
      WEFT_TRY(r_.ReadS64());
      Push(ValType::kI64);
      return {};
    case 0x43:
      WEFT_TRY(r_.ReadF32Bits());
      Push(ValType::kF32);
      return {};
    case 0x44:
      WEFT_TRY(r_.ReadF64Bits());
      Push(ValType::kF64);
      return {};
    case 0xD0: {  // ref.null t
      WEFT_TRY_ASSIGN(ValType t, ReadRefType(r_));
      Push(t);
      return {};
    }
    case 0xD1: {  // ref.is_null
      ValType t = Pop();
      if (valid_ && t != kUnknown && !IsRefType(t)) Fail("type mismatch");
      Push(ValType::kI32);
      return {};
    }
    case 0xD2: {  // ref.func x
      WEFT_TRY_ASSIGN(uint32_t x, r_.ReadU32());
      if (!valid_ || !CheckFunc(x)) return {};
      if (ctx_.declared_refs == nullptr || x >= ctx_.declared_refs->size() ||
          !(*ctx_.declared_refs)[x]) {
        Fail("undeclared function reference");
        return {};
      }
      Push(ValType::kFuncRef);
      return {};
    }
    case 0xFC:
      return PrefixedFC();
    case 0xFD:
      return Err(Diag{op_offset_, "SIMD (v128) not supported yet"});
    default:
      break;
  }
  if (byte >= 0x28 && byte <= 0x3E) {
    MemOp mo = MemOpInfo(byte);
    WEFT_TRY(ReadMemArg(mo.max_align));
    if (!valid_) return {};
    if (mo.is_store) {
      Pop(mo.type);
      Pop(ValType::kI32);
    } else {
      Pop(ValType::kI32);
      Push(mo.type);
    }
    return {};
  }
  if (const char* sig = NumericSig(byte)) {
    if (!valid_) return {};
    // "ab>r": pop b then a, push r.
    const char* gt = sig;
    while (*gt != '>') ++gt;
    for (const char* p = gt; p-- > sig;) Pop(Vt(*p));
    Push(Vt(gt[1]));
    return {};
  }
  return Err(Diag{op_offset_, "illegal opcode"});
}

Result<void, Diag> BodyDecoder::PrefixedFC() {
  WEFT_TRY_ASSIGN(uint32_t sub, r_.ReadU32());
  auto need_data_count = [&]() -> Result<void, Diag> {
    ctx_.uses_data_index = true;
    return {};
  };
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
      WEFT_TRY(need_data_count());
      WEFT_TRY_ASSIGN(uint32_t x, r_.ReadU32());
      WEFT_TRY(ZeroByte());
      if (!valid_ || !CheckMemory(0) || !check_data(x)) return {};
      Pop(ValType::kI32);
      Pop(ValType::kI32);
      Pop(ValType::kI32);
      return {};
    }
    case 9: {  // data.drop
      WEFT_TRY(need_data_count());
      WEFT_TRY_ASSIGN(uint32_t x, r_.ReadU32());
      if (valid_) check_data(x);
      return {};
    }
    case 10:  // memory.copy 0x00 0x00
      WEFT_TRY(ZeroByte());
      WEFT_TRY(ZeroByte());
      if (!valid_ || !CheckMemory(0)) return {};
      Pop(ValType::kI32);
      Pop(ValType::kI32);
      Pop(ValType::kI32);
      return {};
    case 11:  // memory.fill 0x00
      WEFT_TRY(ZeroByte());
      if (!valid_ || !CheckMemory(0)) return {};
      Pop(ValType::kI32);
      Pop(ValType::kI32);
      Pop(ValType::kI32);
      return {};
    case 12: {  // table.init elemidx tableidx
      WEFT_TRY_ASSIGN(uint32_t e, r_.ReadU32());
      WEFT_TRY_ASSIGN(uint32_t t, r_.ReadU32());
      if (!valid_ || !CheckTable(t) || !check_elem(e)) return {};
      if (m_.elems.size() > e && m_.elems[e].type != m_.tables[t].elem) {
        Fail("type mismatch");
        return {};
      }
      Pop(ValType::kI32);
      Pop(ValType::kI32);
      Pop(ValType::kI32);
      return {};
    }
    case 13: {  // elem.drop
      WEFT_TRY_ASSIGN(uint32_t e, r_.ReadU32());
      if (valid_) check_elem(e);
      return {};
    }
    case 14: {  // table.copy dst src
      WEFT_TRY_ASSIGN(uint32_t dst, r_.ReadU32());
      WEFT_TRY_ASSIGN(uint32_t src, r_.ReadU32());
      if (!valid_ || !CheckTable(dst) || !CheckTable(src)) return {};
      if (m_.tables[dst].elem != m_.tables[src].elem) {
        Fail("type mismatch");
        return {};
      }
      Pop(ValType::kI32);
      Pop(ValType::kI32);
      Pop(ValType::kI32);
      return {};
    }
    case 15: case 16: case 17: {  // table.grow / table.size / table.fill
      WEFT_TRY_ASSIGN(uint32_t x, r_.ReadU32());
      if (!valid_ || !CheckTable(x)) return {};
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
      return {};
    }
    default:
      break;
  }
  if (sub <= 7) {
    if (!valid_) return {};
    const char* sig = NumericSig(static_cast<uint16_t>(0xFC00 | sub));
    Pop(Vt(sig[0]));
    Push(Vt(sig[2]));
    return {};
  }
  return Err(Diag{op_offset_, "illegal opcode"});
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

Result<void, Diag> DecodeFunctionBody(Reader& r, const BodyContext& ctx, const FuncType* func_type,
                                      Function* f, std::optional<Diag>* invalid) {
  // Locals: vec(count, valtype). The total is checked before anything is allocated.
  WEFT_TRY_ASSIGN(uint32_t runs, r.ReadCount(2));
  uint64_t total = 0;
  f->locals.clear();
  f->locals.reserve(runs);
  for (uint32_t i = 0; i < runs; ++i) {
    size_t at = r.offset();
    WEFT_TRY_ASSIGN(uint32_t count, r.ReadU32());
    total += count;
    if (total > ctx.options->max_function_locals) return Err(Diag{at, "too many locals"});
    WEFT_TRY_ASSIGN(ValType t, ReadValType(r));
    f->locals.push_back(LocalRun{count, t});
  }
  f->num_locals = static_cast<uint32_t>(total);

  f->body_offset = static_cast<uint32_t>(r.offset());
  BodyDecoder d(r, ctx, invalid);
  WEFT_TRY(d.Run(invalid->has_value() ? nullptr : func_type, &f->locals));
  f->body_size = static_cast<uint32_t>(r.offset() - f->body_offset);
  return {};
}

Result<void, Diag> SkipInstructions(Reader& r, const BodyContext& ctx) {
  std::optional<Diag> ignored = Diag{};  // set: syntax only
  BodyDecoder d(r, ctx, &ignored);
  return d.Run(nullptr, nullptr);
}

}  // namespace weft::wasm
