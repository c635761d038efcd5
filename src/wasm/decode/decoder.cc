// DecodeModule: the binary format (spec chapter 5) plus module validation (spec 3.4).
//
// Error precedence follows the spec's reference interpreter, which decodes the whole
// module before validating it: a malformed-binary error is returned as soon as it is
// found; the first validation error is remembered and returned only once the whole
// binary has decoded cleanly.
//
// Section payloads are read with a reader bounded by the end of the module, not of the
// section, and the section size is checked afterwards ("section size mismatch"), again
// as the reference interpreter does; custom sections are read within their own size.
#include <algorithm>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "wasm/decode/decode_validated.h"
#include "wasm/decode/reader.h"
#include "wasm/validate/function_validator.h"
#include "weft/wasm/module.h"

namespace weft::wasm {
namespace {

constexpr uint64_t kMaxMemoryPages = 65536;
// Several threads validate a large code section (DecodeOptions::decode_threads), each
// taking at least this many bodies.
constexpr unsigned kMaxDecodeThreads = 8;
constexpr uint32_t kMinBodiesPerThread = 16;

// Position of each non-custom section id in the required order (spec 5.5.2).
int SectionRank(uint8_t id) {
  switch (id) {
    case 1: return 1;    // type
    case 2: return 2;    // import
    case 3: return 3;    // function
    case 4: return 4;    // table
    case 5: return 5;    // memory
    case 6: return 6;    // global
    case 7: return 7;    // export
    case 8: return 8;    // start
    case 9: return 9;    // element
    case 12: return 10;  // data count
    case 10: return 11;  // code
    case 11: return 12;  // data
  }
  return -1;
}

class ModuleDecoder {
 public:
  ModuleDecoder(std::vector<uint8_t> bytes, const DecodeOptions& options)
      : options_(options), module_(std::make_shared<Module>()) {
    module_->bytes = std::move(bytes);
    r_ = Reader(module_->bytes);
  }

  Result<std::shared_ptr<const Module>, Diag> Decode();

  // DecodeValidatedModule: the bodies' instructions are skipped, and these are their
  // Function::distinct_consts.
  void TrustBodies(std::span<const uint32_t> distinct_consts) { known_consts_ = distinct_consts; }
  Module& module() { return *module_; }

 private:
  Module& m() { return *module_; }

  // Records a validation error; the first one wins.
  void Invalid(size_t offset, std::string message) {
    if (!invalid_) invalid_ = Diag{offset, std::move(message)};
  }

  Result<void, Diag> Section(uint8_t id);
  Result<void, Diag> TypeSection();
  Result<void, Diag> ImportSection();
  Result<void, Diag> FunctionSection();
  Result<void, Diag> TableSection();
  Result<void, Diag> MemorySection();
  Result<void, Diag> GlobalSection();
  Result<void, Diag> ExportSection();
  Result<void, Diag> StartSection();
  Result<void, Diag> ElemSection();
  Result<void, Diag> DataCountSection();
  Result<void, Diag> CodeSection();
  Result<void, Diag> KnownCodeSection(uint32_t num_bodies);
  unsigned CodeThreads(uint32_t num_bodies) const;
  Result<void, Diag> CodeSectionParallel(uint32_t num_bodies, unsigned threads);
  Result<void, Diag> DataSection();
  void NameSection(Reader r);

  Result<std::string, Diag> ReadName();
  Result<Limits, Diag> ReadLimits();
  Result<TableType, Diag> ReadTableType();
  Result<MemoryType, Diag> ReadMemoryType();
  Result<GlobalType, Diag> ReadGlobalType();
  // A constant expression of type `expected`. `num_globals` is how many globals it may
  // refer to (the imported ones for global initialisers).
  Result<ConstExpr, Diag> ReadConstExpr(ValType expected, uint32_t num_globals);

  void CheckFuncIndex(size_t at, uint32_t index) {
    if (index >= m().func_types.size()) Invalid(at, "unknown function " + std::to_string(index));
  }
  void DeclareRef(uint32_t func_index) {
    if (func_index < declared_refs_.size()) declared_refs_[func_index] = true;
  }
  BodyContext MakeBodyContext() {
    BodyContext ctx;
    ctx.module = module_.get();
    ctx.num_elem_segments = static_cast<uint32_t>(m().elems.size());
    ctx.declared_refs = &declared_refs_;
    ctx.options = &options_;
    ctx.scratch = &scratch_;
    return ctx;
  }

  const DecodeOptions& options_;
  std::shared_ptr<Module> module_;
  Reader r_;
  std::optional<Diag> invalid_;
  std::span<const uint32_t> known_consts_;
  std::vector<bool> declared_refs_;
  BodyScratch scratch_;               // the validator's buffers, reused for every body  // C.refs, sized once the function section is read
  uint32_t num_defined_funcs_ = 0;
  uint32_t section_size_ = 0;       // of the section being read
  bool refs_sized_ = false;
  bool uses_data_index_ = false;
  bool has_code_section_ = false;
  bool has_data_section_ = false;
};

Result<std::string, Diag> ModuleDecoder::ReadName() {
  size_t at = r_.offset();
  WEFT_TRY_ASSIGN(uint32_t len, r_.ReadU32());
  if (len > r_.remaining()) return Err(Diag{at, "length out of bounds"});
  WEFT_TRY_ASSIGN(auto bytes, r_.ReadBytes(len));
  std::string_view s(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (!Reader::IsValidUtf8(s)) return Err(Diag{at, "malformed UTF-8 encoding"});
  return std::string(s);
}

Result<Limits, Diag> ModuleDecoder::ReadLimits() {
  size_t at = r_.offset();
  WEFT_TRY_ASSIGN(uint8_t flags, r_.ReadByte());
  // The flags are a 1-byte LEB128 in the reference interpreter's reading.
  if (flags & 0x80) return Err(Diag{at, "integer representation too long"});
  if (flags > 1) return Err(Diag{at, "integer too large"});
  Limits l;
  WEFT_TRY_ASSIGN(l.min, r_.ReadU32());
  if (flags == 1) {
    WEFT_TRY_ASSIGN(uint32_t max, r_.ReadU32());
    l.max = max;
  }
  return l;
}

Result<TableType, Diag> ModuleDecoder::ReadTableType() {
  TableType t;
  WEFT_TRY_ASSIGN(t.elem, ReadRefType(r_));
  size_t at = r_.offset();
  WEFT_TRY_ASSIGN(t.limits, ReadLimits());
  if (t.limits.max && t.limits.min > *t.limits.max)
    Invalid(at, "size minimum must not be greater than maximum");
  return t;
}

Result<MemoryType, Diag> ModuleDecoder::ReadMemoryType() {
  MemoryType t;
  size_t at = r_.offset();
  WEFT_TRY_ASSIGN(t.limits, ReadLimits());
  if (t.limits.min > kMaxMemoryPages || (t.limits.max && *t.limits.max > kMaxMemoryPages))
    Invalid(at, "memory size must be at most 65536 pages (4GiB)");
  else if (t.limits.max && t.limits.min > *t.limits.max)
    Invalid(at, "size minimum must not be greater than maximum");
  return t;
}

Result<GlobalType, Diag> ModuleDecoder::ReadGlobalType() {
  GlobalType g;
  WEFT_TRY_ASSIGN(g.type, ReadValType(r_));
  size_t at = r_.offset();
  WEFT_TRY_ASSIGN(uint8_t mut, r_.ReadByte());
  if (mut > 1) return Err(Diag{at, "malformed mutability"});
  g.is_mutable = mut == 1;
  return g;
}

Result<ConstExpr, Diag> ModuleDecoder::ReadConstExpr(ValType expected, uint32_t num_globals) {
  ConstExpr e;
  size_t start = r_.offset();
  int count = 0;
  bool constant = true;
  for (;;) {
    Reader before = r_;
    size_t at = r_.offset();
    WEFT_TRY_ASSIGN(uint8_t op, r_.ReadByte());
    if (op == 0x0B) break;
    ++count;
    switch (op) {
      case 0x41: {
        WEFT_TRY_ASSIGN(int32_t v, r_.ReadS32());
        e.kind = ConstExpr::Kind::kI32;
        e.type = ValType::kI32;
        e.bits = static_cast<uint32_t>(v);
        continue;
      }
      case 0x42: {
        WEFT_TRY_ASSIGN(int64_t v, r_.ReadS64());
        e.kind = ConstExpr::Kind::kI64;
        e.type = ValType::kI64;
        e.bits = static_cast<uint64_t>(v);
        continue;
      }
      case 0x43: {
        WEFT_TRY_ASSIGN(e.bits, r_.ReadF32Bits());
        e.kind = ConstExpr::Kind::kF32;
        e.type = ValType::kF32;
        continue;
      }
      case 0x44: {
        WEFT_TRY_ASSIGN(e.bits, r_.ReadF64Bits());
        e.kind = ConstExpr::Kind::kF64;
        e.type = ValType::kF64;
        continue;
      }
      case 0xD0: {
        WEFT_TRY_ASSIGN(e.type, ReadRefType(r_));
        e.kind = ConstExpr::Kind::kRefNull;
        e.bits = 0;
        continue;
      }
      case 0xD2: {
        WEFT_TRY_ASSIGN(e.index, r_.ReadU32());
        CheckFuncIndex(at, e.index);
        DeclareRef(e.index);
        e.kind = ConstExpr::Kind::kRefFunc;
        e.type = ValType::kFuncRef;
        continue;
      }
      case 0x23: {
        WEFT_TRY_ASSIGN(e.index, r_.ReadU32());
        e.kind = ConstExpr::Kind::kGlobalGet;
        if (e.index >= num_globals) {
          Invalid(at, "unknown global " + std::to_string(e.index));
          e.type = expected;
        } else {
          const GlobalType& g = m().global_types[e.index];
          if (g.is_mutable) Invalid(at, "constant expression required");
          e.type = g.type;
        }
        continue;
      }
      default:
        // Not a constant instruction: invalid, but parse it (and whatever follows up
        // to the closing `end`) so that malformed bytes are still reported as such.
        constant = false;
        Invalid(at, "constant expression required");
        r_ = before;
        WEFT_TRY(SkipInstructions(r_, MakeBodyContext()));
        break;
    }
    break;
  }
  if (constant && (count != 1 || e.type != expected)) Invalid(start, "type mismatch");
  return e;
}

Result<void, Diag> ModuleDecoder::TypeSection() {
  WEFT_TRY_ASSIGN(uint32_t n, r_.ReadCount(1));
  m().types.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    size_t at = r_.offset();
    WEFT_TRY_ASSIGN(uint8_t form, r_.ReadByte());
    if (form & 0x80) return Err(Diag{at, "integer representation too long"});
    if (form != 0x60) return Err(Diag{at, "malformed function type"});
    FuncType ft;
    WEFT_TRY_ASSIGN(uint32_t np, r_.ReadCount(1));
    for (uint32_t k = 0; k < np; ++k) {
      WEFT_TRY_ASSIGN(ValType t, ReadValType(r_));
      ft.params.push_back(t);
    }
    WEFT_TRY_ASSIGN(uint32_t nr, r_.ReadCount(1));
    for (uint32_t k = 0; k < nr; ++k) {
      WEFT_TRY_ASSIGN(ValType t, ReadValType(r_));
      ft.results.push_back(t);
    }
    m().types.push_back(std::move(ft));
  }
  return {};
}

Result<void, Diag> ModuleDecoder::ImportSection() {
  WEFT_TRY_ASSIGN(uint32_t n, r_.ReadCount(1));
  for (uint32_t i = 0; i < n; ++i) {
    Import imp;
    WEFT_TRY_ASSIGN(imp.module, ReadName());
    WEFT_TRY_ASSIGN(imp.name, ReadName());
    size_t at = r_.offset();
    WEFT_TRY_ASSIGN(uint8_t kind, r_.ReadByte());
    switch (kind) {
      case 0: {
        imp.kind = ExternKind::kFunc;
        size_t tat = r_.offset();
        WEFT_TRY_ASSIGN(imp.type_index, r_.ReadU32());
        if (imp.type_index >= m().types.size())
          Invalid(tat, "unknown type " + std::to_string(imp.type_index));
        m().func_types.push_back(imp.type_index);
        ++m().num_imported_funcs;
        break;
      }
      case 1: {
        imp.kind = ExternKind::kTable;
        WEFT_TRY_ASSIGN(imp.table, ReadTableType());
        m().tables.push_back(imp.table);
        ++m().num_imported_tables;
        break;
      }
      case 2: {
        imp.kind = ExternKind::kMemory;
        WEFT_TRY_ASSIGN(imp.memory, ReadMemoryType());
        m().memories.push_back(imp.memory);
        ++m().num_imported_memories;
        if (m().memories.size() > 1) Invalid(at, "multiple memories");
        break;
      }
      case 3: {
        imp.kind = ExternKind::kGlobal;
        WEFT_TRY_ASSIGN(imp.global, ReadGlobalType());
        m().global_types.push_back(imp.global);
        ++m().num_imported_globals;
        break;
      }
      default:
        return Err(Diag{at, "malformed import kind"});
    }
    m().imports.push_back(std::move(imp));
  }
  return {};
}

Result<void, Diag> ModuleDecoder::FunctionSection() {
  WEFT_TRY_ASSIGN(uint32_t n, r_.ReadCount(1));
  num_defined_funcs_ = n;
  m().functions.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    size_t at = r_.offset();
    WEFT_TRY_ASSIGN(uint32_t ti, r_.ReadU32());
    if (ti >= m().types.size()) Invalid(at, "unknown type " + std::to_string(ti));
    m().functions[i].type_index = ti;
    m().func_types.push_back(ti);
  }
  return {};
}

Result<void, Diag> ModuleDecoder::TableSection() {
  WEFT_TRY_ASSIGN(uint32_t n, r_.ReadCount(1));
  for (uint32_t i = 0; i < n; ++i) {
    WEFT_TRY_ASSIGN(TableType t, ReadTableType());
    m().tables.push_back(t);
  }
  return {};
}

Result<void, Diag> ModuleDecoder::MemorySection() {
  WEFT_TRY_ASSIGN(uint32_t n, r_.ReadCount(1));
  for (uint32_t i = 0; i < n; ++i) {
    size_t at = r_.offset();
    WEFT_TRY_ASSIGN(MemoryType t, ReadMemoryType());
    m().memories.push_back(t);
    if (m().memories.size() > 1) Invalid(at, "multiple memories");
  }
  return {};
}

Result<void, Diag> ModuleDecoder::GlobalSection() {
  WEFT_TRY_ASSIGN(uint32_t n, r_.ReadCount(1));
  for (uint32_t i = 0; i < n; ++i) {
    Global g;
    WEFT_TRY_ASSIGN(g.type, ReadGlobalType());
    // Global initialisers see only the imported globals (spec 3.4.10, context C').
    WEFT_TRY_ASSIGN(g.init, ReadConstExpr(g.type.type, m().num_imported_globals));
    m().global_types.push_back(g.type);
    m().globals.push_back(g);
  }
  return {};
}

Result<void, Diag> ModuleDecoder::ExportSection() {
  WEFT_TRY_ASSIGN(uint32_t n, r_.ReadCount(1));
  std::set<std::string, std::less<>> names;
  for (uint32_t i = 0; i < n; ++i) {
    Export ex;
    size_t name_at = r_.offset();
    WEFT_TRY_ASSIGN(ex.name, ReadName());
    size_t at = r_.offset();
    WEFT_TRY_ASSIGN(uint8_t kind, r_.ReadByte());
    if (kind > 3) return Err(Diag{at, "malformed export kind"});
    ex.kind = static_cast<ExternKind>(kind);
    WEFT_TRY_ASSIGN(ex.index, r_.ReadU32());
    switch (ex.kind) {
      case ExternKind::kFunc:
        CheckFuncIndex(at, ex.index);
        DeclareRef(ex.index);
        break;
      case ExternKind::kTable:
        if (ex.index >= m().tables.size()) Invalid(at, "unknown table " + std::to_string(ex.index));
        break;
      case ExternKind::kMemory:
        if (ex.index >= m().memories.size())
          Invalid(at, "unknown memory " + std::to_string(ex.index));
        break;
      case ExternKind::kGlobal:
        if (ex.index >= m().global_types.size())
          Invalid(at, "unknown global " + std::to_string(ex.index));
        break;
    }
    if (!names.insert(ex.name).second) Invalid(name_at, "duplicate export name");
    m().exports.push_back(std::move(ex));
  }
  return {};
}

Result<void, Diag> ModuleDecoder::StartSection() {
  size_t at = r_.offset();
  WEFT_TRY_ASSIGN(uint32_t f, r_.ReadU32());
  m().start = f;
  if (f >= m().func_types.size()) {
    Invalid(at, "unknown function " + std::to_string(f));
  } else if (m().func_types[f] < m().types.size()) {
    const FuncType& ft = m().FuncTypeOf(f);
    if (!ft.params.empty() || !ft.results.empty()) Invalid(at, "start function");
  }
  return {};
}

Result<void, Diag> ModuleDecoder::ElemSection() {
  WEFT_TRY_ASSIGN(uint32_t n, r_.ReadCount(1));
  // Offsets and element expressions, like global initialisers, may only read imported
  // globals (Wasm 2.0 testsuite: elem.wast / data.wast expect "unknown global").
  const uint32_t all_globals = m().num_imported_globals;
  for (uint32_t i = 0; i < n; ++i) {
    ElemSegment seg;
    size_t at = r_.offset();
    WEFT_TRY_ASSIGN(uint32_t flags, r_.ReadU32());
    if (flags > 7) return Err(Diag{at, "malformed elements segment kind"});
    const bool passive_or_declarative = flags & 1;
    const bool explicit_table = flags & 2;
    const bool uses_exprs = flags & 4;
    if (passive_or_declarative) {
      seg.mode = explicit_table ? SegmentMode::kDeclarative : SegmentMode::kPassive;
    } else {
      seg.mode = SegmentMode::kActive;
      if (explicit_table) {
        WEFT_TRY_ASSIGN(seg.table_index, r_.ReadU32());
      }
      WEFT_TRY_ASSIGN(seg.offset, ReadConstExpr(ValType::kI32, all_globals));
    }
    // Forms 0 and 4 have an implicit funcref type; the others spell it out.
    if (passive_or_declarative || explicit_table) {
      if (uses_exprs) {
        WEFT_TRY_ASSIGN(seg.type, ReadRefType(r_));
      } else {
        size_t kat = r_.offset();
        WEFT_TRY_ASSIGN(uint8_t kind, r_.ReadByte());
        if (kind != 0x00) return Err(Diag{kat, "malformed elements kind"});
        seg.type = ValType::kFuncRef;
      }
    }
    WEFT_TRY_ASSIGN(uint32_t count, r_.ReadCount(1));
    seg.init.reserve(count);
    for (uint32_t k = 0; k < count; ++k) {
      if (uses_exprs) {
        WEFT_TRY_ASSIGN(ConstExpr e, ReadConstExpr(seg.type, all_globals));
        seg.init.push_back(e);
      } else {
        size_t fat = r_.offset();
        ConstExpr e;
        e.kind = ConstExpr::Kind::kRefFunc;
        e.type = ValType::kFuncRef;
        WEFT_TRY_ASSIGN(e.index, r_.ReadU32());
        CheckFuncIndex(fat, e.index);
        DeclareRef(e.index);
        seg.init.push_back(e);
      }
    }
    if (seg.mode == SegmentMode::kActive) {
      if (seg.table_index >= m().tables.size()) {
        Invalid(at, "unknown table " + std::to_string(seg.table_index));
      } else if (m().tables[seg.table_index].elem != seg.type) {
        Invalid(at, "type mismatch");
      }
    }
    m().elems.push_back(std::move(seg));
  }
  return {};
}

Result<void, Diag> ModuleDecoder::DataCountSection() {
  WEFT_TRY_ASSIGN(uint32_t n, r_.ReadU32());
  m().data_count = n;
  return {};
}

Result<void, Diag> ModuleDecoder::CodeSection() {
  has_code_section_ = true;
  size_t at = r_.offset();
  WEFT_TRY_ASSIGN(uint32_t n, r_.ReadCount(1));
  if (n != num_defined_funcs_)
    return Err(Diag{at, "function and code section have inconsistent lengths"});
  if (!known_consts_.empty()) return KnownCodeSection(n);
  if (unsigned threads = CodeThreads(n); threads > 1) return CodeSectionParallel(n, threads);
  for (uint32_t i = 0; i < n; ++i) {
    BodyContext ctx = MakeBodyContext();
    size_t size_at = r_.offset();
    WEFT_TRY_ASSIGN(uint32_t size, r_.ReadU32());
    if (size > r_.remaining()) return Err(Diag{size_at, "length out of bounds"});
    size_t start = r_.offset();
    Function& f = m().functions[i];
    const FuncType* ft = f.type_index < m().types.size() ? &m().types[f.type_index] : nullptr;
    WEFT_TRY(DecodeFunctionBody(r_, ctx, ft, &f, &invalid_));
    uses_data_index_ |= ctx.uses_data_index;
    if (r_.offset() != start + size) return Err(Diag{start, "section size mismatch"});
  }
  return {};
}

// Bodies that an earlier decode of these same bytes validated: only their locals are read
// (the compiler needs them); the instructions are skipped by the bodies' size prefixes.
Result<void, Diag> ModuleDecoder::KnownCodeSection(uint32_t n) {
  if (known_consts_.size() != n)
    return Err(Diag{r_.offset(), "code cache entry does not match the code section"});
  for (uint32_t i = 0; i < n; ++i) {
    WEFT_TRY_ASSIGN(uint32_t size, r_.ReadU32());
    if (size > r_.remaining()) return Err(Diag{r_.offset(), "length out of bounds"});
    size_t end = r_.offset() + size;
    Function& f = m().functions[i];
    WEFT_TRY(DecodeLocals(r_, options_, &f));
    if (f.body_offset > end) return Err(Diag{f.body_offset, "section size mismatch"});
    f.body_size = static_cast<uint32_t>(end - f.body_offset);
    f.distinct_consts = known_consts_[i];
    WEFT_TRY(r_.Skip(f.body_size));
  }
  return {};
}

unsigned ModuleDecoder::CodeThreads(uint32_t num_bodies) const {
  // An already invalid module keeps the one-thread path, which parses the remaining
  // bodies for syntax only; the parallel path assumes every body starts out valid.
  if (invalid_ || section_size_ < options_.parallel_code_bytes) return 1;
  unsigned threads = options_.decode_threads;
  if (threads == 0) threads = std::min(std::thread::hardware_concurrency(), kMaxDecodeThreads);
  return std::max(1u, std::min<unsigned>(threads, num_bodies / kMinBodiesPerThread));
}

// Bodies are delimited by their size prefixes, so they can be validated independently:
// one pass reads the sizes, then each thread validates a contiguous run of bodies, and
// the runs' errors are combined in body order. The first malformed error by position is
// returned, and the first invalid one kept otherwise, exactly as in the one-thread loop:
// a body's parse does not depend on whether an earlier body was valid.
Result<void, Diag> ModuleDecoder::CodeSectionParallel(uint32_t num_bodies, unsigned threads) {
  struct BodyAt {
    size_t start;
    uint32_t size;
  };
  std::vector<BodyAt> bodies;
  bodies.reserve(num_bodies);
  std::optional<Diag> size_error;  // a bad size prefix; bodies before it still come first
  for (uint32_t i = 0; i < num_bodies; ++i) {
    size_t size_at = r_.offset();
    auto size = r_.ReadU32();
    if (!size.ok()) {
      size_error = std::move(size).error();
      break;
    }
    if (*size > r_.remaining()) {
      size_error = Diag{size_at, "length out of bounds"};
      break;
    }
    bodies.push_back(BodyAt{r_.offset(), *size});
    (void)r_.Skip(*size);
  }

  struct Run {
    size_t begin = 0, end = 0;        // body indices [begin, end)
    std::optional<Diag> malformed;    // the first one stops the run
    std::optional<Diag> invalid;      // the first one in the run
    bool uses_data_index = false;
  };
  // Contiguous runs of roughly equal byte size.
  std::vector<Run> runs(threads);
  size_t total = 0;
  for (const BodyAt& b : bodies) total += b.size;
  size_t k = 0, acc = 0;
  for (unsigned t = 0; t < threads; ++t) {
    runs[t].begin = k;
    const size_t target = total * (t + 1) / threads;
    while (k < bodies.size() && (acc < target || t + 1 == threads)) acc += bodies[k++].size;
    runs[t].end = k;
  }

  const std::span<const uint8_t> all(m().bytes);
  auto validate = [&](Run& run) {
    BodyScratch scratch;
    BodyContext ctx = MakeBodyContext();
    ctx.scratch = &scratch;
    for (size_t i = run.begin; i < run.end; ++i) {
      const BodyAt& b = bodies[i];
      Reader r(all);
      r.Advance(b.start);
      Function& f = m().functions[i];
      const FuncType* ft = f.type_index < m().types.size() ? &m().types[f.type_index] : nullptr;
      std::optional<Diag> invalid;
      auto res = DecodeFunctionBody(r, ctx, ft, &f, &invalid);
      if (invalid && !run.invalid) run.invalid = std::move(invalid);
      if (!res.ok()) {
        run.malformed = std::move(res).error();
        break;
      }
      if (r.offset() != b.start + b.size) {
        run.malformed = Diag{b.start, "section size mismatch"};
        break;
      }
    }
    run.uses_data_index = ctx.uses_data_index;
  };
  std::vector<std::thread> workers;
  workers.reserve(threads - 1);
  for (unsigned t = 1; t < threads; ++t) workers.emplace_back(validate, std::ref(runs[t]));
  validate(runs[0]);
  for (std::thread& w : workers) w.join();

  for (Run& run : runs) {
    uses_data_index_ |= run.uses_data_index;
    if (run.invalid && !invalid_) invalid_ = std::move(run.invalid);
    if (run.malformed) return Err(std::move(*run.malformed));
  }
  if (size_error) return Err(std::move(*size_error));
  return {};
}

Result<void, Diag> ModuleDecoder::DataSection() {
  has_data_section_ = true;
  size_t at = r_.offset();
  WEFT_TRY_ASSIGN(uint32_t n, r_.ReadCount(1));
  if (m().data_count && *m().data_count != n)
    return Err(Diag{at, "data count and data section have inconsistent lengths"});
  // Offsets and element expressions, like global initialisers, may only read imported
  // globals (Wasm 2.0 testsuite: elem.wast / data.wast expect "unknown global").
  const uint32_t all_globals = m().num_imported_globals;
  for (uint32_t i = 0; i < n; ++i) {
    DataSegment seg;
    size_t seg_at = r_.offset();
    WEFT_TRY_ASSIGN(uint32_t flags, r_.ReadU32());
    if (flags > 2) return Err(Diag{seg_at, "malformed data segment kind"});
    if (flags == 1) {
      seg.mode = SegmentMode::kPassive;
    } else {
      seg.mode = SegmentMode::kActive;
      if (flags == 2) {
        WEFT_TRY_ASSIGN(seg.memory_index, r_.ReadU32());
      }
      WEFT_TRY_ASSIGN(seg.offset, ReadConstExpr(ValType::kI32, all_globals));
      if (seg.memory_index >= m().memories.size())
        Invalid(seg_at, "unknown memory " + std::to_string(seg.memory_index));
    }
    WEFT_TRY_ASSIGN(uint32_t len, r_.ReadU32());
    seg.data_offset = static_cast<uint32_t>(r_.offset());
    seg.data_size = len;
    WEFT_TRY(r_.Skip(len));
    m().datas.push_back(seg);
  }
  return {};
}

void ModuleDecoder::NameSection(Reader r) {
  // Malformed name sections are ignored (spec 7.4.1: custom sections do not affect validity).
  std::string module_name;
  std::vector<FuncNameEntry> names;
  while (!r.at_end()) {
    auto id = r.ReadByte();
    auto size = r.ReadU32();
    if (!id.ok() || !size.ok() || *size > r.remaining()) return;
    auto payload = r.ReadBytes(*size);
    Reader sub(*payload, 0);
    if (*id == 0) {
      auto n = sub.ReadName();
      if (!n.ok()) return;
      module_name = std::move(*n);
    } else if (*id == 1) {
      auto count = sub.ReadCount(2);  // an index and a name length, a byte each at least
      if (!count.ok()) return;
      names.reserve(names.size() + *count);
      for (uint32_t i = 0; i < *count; ++i) {
        auto idx = sub.ReadU32();
        if (!idx.ok()) return;
        auto n = sub.ReadNameView();
        if (!n.ok()) return;
        auto offset = reinterpret_cast<const uint8_t*>(n->data()) - m().bytes.data();
        names.push_back({*idx, static_cast<uint32_t>(offset), static_cast<uint32_t>(n->size())});
      }
    }
  }
  // The spec lists names by strictly increasing index. From a producer that did not,
  // they are sorted, the last of equal indices winning (as assigning them in order would).
  auto out_of_order = [](const FuncNameEntry& a, const FuncNameEntry& b) {
    return a.func_index >= b.func_index;
  };
  if (std::adjacent_find(names.begin(), names.end(), out_of_order) != names.end()) {
    std::stable_sort(names.begin(), names.end(), [](const auto& a, const auto& b) {
      return a.func_index < b.func_index;
    });
    size_t kept = 0;
    for (const FuncNameEntry& e : names) {
      if (kept > 0 && names[kept - 1].func_index == e.func_index) {
        names[kept - 1] = e;
      } else {
        names[kept++] = e;
      }
    }
    names.resize(kept);
  }
  m().name = std::move(module_name);
  m().func_names = std::move(names);
}

Result<void, Diag> ModuleDecoder::Section(uint8_t id) {
  switch (id) {
    case 1: return TypeSection();
    case 2: return ImportSection();
    case 3: return FunctionSection();
    case 4: return TableSection();
    case 5: return MemorySection();
    case 6: return GlobalSection();
    case 7: return ExportSection();
    case 8: return StartSection();
    case 9: return ElemSection();
    case 10: return CodeSection();
    case 11: return DataSection();
    case 12: return DataCountSection();
  }
  return Err(r_.Error("malformed section id"));
}

Result<std::shared_ptr<const Module>, Diag> ModuleDecoder::Decode() {
  static constexpr uint8_t kMagic[4] = {0x00, 0x61, 0x73, 0x6D};
  static constexpr uint8_t kVersion[4] = {0x01, 0x00, 0x00, 0x00};
  if (r_.remaining() < 4) return Err(Diag{0, "unexpected end"});
  if (!std::equal(kMagic, kMagic + 4, r_.data())) return Err(Diag{0, "magic header not detected"});
  WEFT_TRY(r_.Skip(4));
  if (r_.remaining() < 4) return Err(Diag{4, "unexpected end"});
  if (!std::equal(kVersion, kVersion + 4, r_.data())) return Err(Diag{4, "unknown binary version"});
  WEFT_TRY(r_.Skip(4));

  int last_rank = 0;
  while (!r_.at_end()) {
    size_t id_at = r_.offset();
    WEFT_TRY_ASSIGN(uint8_t id, r_.ReadByte());
    if (id > 12) return Err(Diag{id_at, "malformed section id"});
    size_t size_at = r_.offset();
    WEFT_TRY_ASSIGN(uint32_t size, r_.ReadU32());
    if (size > r_.remaining()) return Err(Diag{size_at, "length out of bounds"});
    size_t start = r_.offset();
    if (id == 0) {
      WEFT_TRY_ASSIGN(auto payload, r_.ReadBytes(size));
      Reader sub(payload, start);
      WEFT_TRY_ASSIGN(std::string name, sub.ReadName());
      m().customs.push_back(
          ::weft::wasm::CustomSection{name, static_cast<uint32_t>(sub.offset()),
                                      static_cast<uint32_t>(sub.remaining())});
      if (name == "name") NameSection(Reader(sub.ReadBytes(sub.remaining()).value(), 0));
      continue;
    }
    int rank = SectionRank(id);
    if (rank <= last_rank) return Err(Diag{id_at, "unexpected content after last section"});
    last_rank = rank;
    if (rank > 3 && !refs_sized_) {
      // Every section after the function section may declare function references.
      declared_refs_.assign(m().func_types.size(), false);
      refs_sized_ = true;
    }
    section_size_ = size;
    auto res = Section(id);
    if (!res.ok()) {
      Diag d = std::move(res).error();
      if (d.message == "unexpected end") d.message = "unexpected end of section or function";
      return Err(std::move(d));
    }
    if (r_.offset() != start + size) return Err(Diag{start, "section size mismatch"});
  }
  if (!has_code_section_ && num_defined_funcs_ != 0)
    return Err(Diag{r_.offset(), "function and code section have inconsistent lengths"});
  // memory.init / data.drop need the data count section when there are data segments
  // (without any, the index is simply unknown: an invalid module, not a malformed one).
  if (uses_data_index_ && !m().data_count && has_data_section_)
    return Err(Diag{r_.offset(), "data count section required"});
  if (!has_data_section_ && m().data_count && *m().data_count != 0)
    return Err(Diag{r_.offset(), "data count and data section have inconsistent lengths"});
  if (invalid_) return Err(std::move(*invalid_));
  return std::shared_ptr<const Module>(std::move(module_));
}

}  // namespace

Result<std::shared_ptr<const Module>, Diag> DecodeModule(std::span<const uint8_t> bytes,
                                                         const DecodeOptions& options) {
  ModuleDecoder d(std::vector<uint8_t>(bytes.begin(), bytes.end()), options);
  return d.Decode();
}

Result<std::shared_ptr<const Module>, Diag> DecodeModule(std::vector<uint8_t>&& bytes,
                                                         const DecodeOptions& options) {
  ModuleDecoder d(std::move(bytes), options);
  return d.Decode();
}

Result<std::shared_ptr<const Module>, Diag> DecodeValidatedModule(
    std::vector<uint8_t>&& bytes, const DecodeOptions& options,
    std::span<const uint32_t> distinct_consts, std::shared_ptr<const TranslatedCode> translated) {
  ModuleDecoder d(std::move(bytes), options);
  d.TrustBodies(distinct_consts);
  d.module().translated = std::move(translated);
  return d.Decode();
}

}  // namespace weft::wasm
