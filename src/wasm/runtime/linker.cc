// The linker: import resolution with the spec's matching rules, allocation of a module
// instance, active segment initialisation and the start function (spec 4.5.4).
#include <cstring>

#include "base/populate.h"
#include "wasm/runtime/store_impl.h"

namespace weft::wasm {
namespace {

constexpr size_t kPopulateSegmentBytes = 8 * 1024;

Value EvalConst(const ConstExpr& e, const Instance& inst) {
  switch (e.kind) {
    case ConstExpr::Kind::kI32: return Value{static_cast<uint32_t>(e.bits)};
    case ConstExpr::Kind::kI64:
    case ConstExpr::Kind::kF32:
    case ConstExpr::Kind::kF64: return Value{e.bits};
    case ConstExpr::Kind::kRefNull: return Value{0};
    case ConstExpr::Kind::kRefFunc: return Value::Ref(inst.funcs[e.index]);
    case ConstExpr::Kind::kGlobalGet: return inst.globals[e.index]->value;
  }
  return Value{0};
}

// Spec 4.5.2 "limits" matching: actual {n1, m1?} matches {n2, m2?} iff n1 >= n2 and,
// when m2 is present, m1 is present and m1 <= m2.
bool LimitsMatch(uint64_t actual_min, std::optional<uint64_t> actual_max, const Limits& want) {
  if (actual_min < want.min) return false;
  if (want.max) return actual_max && *actual_max <= *want.max;
  return true;
}

std::string ImportName(const Import& im) { return "`" + im.module + "::" + im.name + "`"; }

}  // namespace

std::string InstantiateError::Message() const {
  return kind == Kind::kLink ? link.message : trap.Message();
}

void Linker::Define(std::string module, std::string name, Extern value) {
  Key key{std::move(module), std::move(name)};
  if (!host_defs_.empty()) {
    if (auto it = host_defs_.find(key); it != host_defs_.end()) host_defs_.erase(it);
  }
  defs_.insert_or_assign(std::move(key), value);
}

void Linker::DefineHost(std::string module, std::string name, std::shared_ptr<HostFuncDef> def) {
  Key key{std::move(module), std::move(name)};
  if (!defs_.empty()) {
    if (auto it = defs_.find(key); it != defs_.end()) defs_.erase(it);
  }
  host_defs_.insert_or_assign(std::move(key), std::move(def));
}

void Linker::DefineHostFunc(Store& store, std::string module, std::string name, FuncType type,
                            HostFunc fn, void* user_data) {
  auto def = std::make_shared<HostFuncDef>(HostFuncDef{
      &store, HostFuncSpec{std::move(type), nullptr, user_data, {}, nullptr}, std::move(fn),
      nullptr});
  DefineHost(std::move(module), std::move(name), std::move(def));
}

void Linker::DefineHostFunc(Store& store, std::string module, std::string name, FuncType type,
                            HostFuncPtr fn, void* user_data, std::shared_ptr<void> keep_alive,
                            HostLeafPtr leaf) {
  DefineHost(std::move(module), std::move(name),
             FastDef(store, HostFuncSpec{std::move(type), fn, user_data, std::move(keep_alive),
                                         leaf}));
}

std::shared_ptr<Linker::HostFuncDef> Linker::FastDef(Store& store, HostFuncSpec spec) {
  return std::make_shared<HostFuncDef>(HostFuncDef{&store, std::move(spec), {}, nullptr});
}

void Linker::DefineHostModule(Store& store, std::string module, HostFuncFinder find) {
  // Earlier definitions in `module` are replaced, as a definition by name replaces one.
  auto erase_module = [&module](auto& map) {
    auto first = map.lower_bound(Key{module, std::string()});
    auto last = first;
    while (last != map.end() && last->first.first == module) ++last;
    map.erase(first, last);
  };
  erase_module(defs_);
  erase_module(host_defs_);
  auto m = std::make_shared<HostModule>();
  m->store = &store;
  m->find = std::move(find);
  host_modules_.insert_or_assign(std::move(module), std::move(m));
}

void Linker::DefineInstance(std::string module, const Instance& instance) {
  for (const auto& [name, ext] : instance.exports) Define(module, name, ext);
}

FuncInst* Linker::Create(std::string_view module, std::string_view name, HostFuncDef& def) const {
  if (def.created == nullptr) {
    // The store takes the function's state; `def` keeps only the result.
    std::string debug_name;
    debug_name.reserve(module.size() + 1 + name.size());
    debug_name.append(module).append(".").append(name);
    HostFuncSpec& spec = def.spec;
    def.created = spec.fn != nullptr
                      ? def.store->CreateHostFunc(std::move(spec.type), spec.fn, spec.user_data,
                                                  std::move(debug_name),
                                                  std::move(spec.keep_alive), spec.leaf)
                      : def.store->CreateHostFunc(std::move(spec.type), std::move(def.fn),
                                                  spec.user_data, std::move(debug_name));
  }
  return def.created;
}

Linker::HostFuncDef* Linker::FindInHostModule(std::string_view module,
                                              std::string_view name) const {
  auto m = host_modules_.find(module);
  if (m == host_modules_.end()) return nullptr;
  HostModule& hm = *m->second;
  if (auto it = hm.made.find(name); it != hm.made.end()) return it->second.get();
  std::optional<HostFuncSpec> spec = hm.find(name);
  if (!spec) return nullptr;
  auto made = hm.made.emplace(std::string(name), FastDef(*hm.store, std::move(*spec)));
  return made.first->second.get();
}

std::optional<Extern> Linker::Get(std::string_view module, std::string_view name) const {
  if (!defs_.empty() || !host_defs_.empty()) {
    Key key(module, name);
    if (auto it = defs_.find(key); it != defs_.end()) return it->second;
    if (auto it = host_defs_.find(key); it != host_defs_.end())
      return Extern::Func(Create(module, name, *it->second));
  }
  HostFuncDef* def = FindInHostModule(module, name);
  if (def == nullptr) return std::nullopt;
  return Extern::Func(Create(module, name, *def));
}

Result<Instance*, InstantiateError> Linker::Instantiate(Store& store,
                                                        std::shared_ptr<const Module> module,
                                                        std::string instance_name) {
  auto link_error = [](std::string msg) {
    InstantiateError e;
    e.kind = InstantiateError::Kind::kLink;
    e.link = Diag{0, std::move(msg)};
    return Err(std::move(e));
  };
  auto trap_error = [](Trap t) {
    InstantiateError e;
    e.kind = InstantiateError::Kind::kTrap;
    e.trap = std::move(t);
    return Err(std::move(e));
  };

  // 1. Resolve and check every import before allocating anything.
  std::vector<Extern> resolved;
  resolved.reserve(module->imports.size());
  for (const Import& im : module->imports) {
    std::optional<Extern> ext = Get(im.module, im.name);
    if (!ext) return link_error("unknown import: " + ImportName(im) + " has not been defined");
    bool ok = ext->kind == im.kind;
    if (ok) {
      switch (im.kind) {
        case ExternKind::kFunc:
          ok = *ext->func()->type == module->types[im.type_index];
          break;
        case ExternKind::kTable: {
          const TableInst* t = ext->table();
          ok = t->type.elem == im.table.elem &&
               LimitsMatch(t->elements.size(), t->type.limits.max, im.table.limits);
          break;
        }
        case ExternKind::kMemory: {
          const MemInst* m = ext->memory();
          ok = LimitsMatch(m->pages(), m->type.limits.max, im.memory.limits);
          break;
        }
        case ExternKind::kGlobal: {
          const GlobalInst* g = ext->global();
          ok = g->type.type == im.global.type && g->type.is_mutable == im.global.is_mutable;
          break;
        }
      }
    }
    if (!ok) return link_error("incompatible import type for " + ImportName(im));
    resolved.push_back(*ext);
  }

  // 2. Allocate.
  auto owned = std::make_unique<Instance>();
  Instance& inst = *owned;
  store.objects().instances.push_back(std::move(owned));
  inst.module = module;
  inst.name = std::move(instance_name);
  inst.type_ids.reserve(module->types.size());
  for (const FuncType& t : module->types) inst.type_ids.push_back(store.InternType(t));
  for (const Extern& e : resolved) {
    switch (e.kind) {
      case ExternKind::kFunc: inst.funcs.push_back(e.func()); break;
      case ExternKind::kTable: inst.tables.push_back(e.table()); break;
      case ExternKind::kMemory: inst.memories.push_back(e.memory()); break;
      case ExternKind::kGlobal: inst.globals.push_back(e.global()); break;
    }
  }
  for (size_t i = 0; i < module->functions.size(); ++i) {
    uint32_t index = module->num_imported_funcs + static_cast<uint32_t>(i);
    auto f = std::make_unique<FuncInst>();
    f->type = &module->types[module->func_types[index]];
    f->type_id = inst.type_ids[module->func_types[index]];
    f->instance = &inst;
    f->func_index = index;
    inst.funcs.push_back(f.get());
    store.objects().funcs.push_back(std::move(f));
  }
  if (module->translated && module->translated->FitsLinking(inst)) inst.translated = module->translated;
  for (size_t i = module->num_imported_tables; i < module->tables.size(); ++i) {
    TableInst* t = store.CreateTable(module->tables[i], Value{0});
    if (!t) return link_error("table allocation failed: minimum size exceeds the store limit");
    inst.tables.push_back(t);
  }
  for (size_t i = module->num_imported_memories; i < module->memories.size(); ++i) {
    MemInst* m = store.CreateMemory(module->memories[i]);
    if (!m) return link_error("memory allocation failed: minimum size exceeds the store limit");
    inst.memories.push_back(m);
  }
  for (const Global& g : module->globals)
    inst.globals.push_back(store.CreateGlobal(g.type, EvalConst(g.init, inst)));
  for (const Export& ex : module->exports) {
    Extern e;
    switch (ex.kind) {
      case ExternKind::kFunc: e = Extern::Func(inst.funcs[ex.index]); break;
      case ExternKind::kTable: e = Extern::Table(inst.tables[ex.index]); break;
      case ExternKind::kMemory: e = Extern::Memory(inst.memories[ex.index]); break;
      case ExternKind::kGlobal: e = Extern::Global(inst.globals[ex.index]); break;
    }
    inst.exports[ex.name] = e;
  }
  inst.elems.resize(module->elems.size());
  for (size_t i = 0; i < module->elems.size(); ++i) {
    const ElemSegment& seg = module->elems[i];
    inst.elems[i].type = seg.type;
    inst.elems[i].elements.reserve(seg.init.size());
    for (const ConstExpr& e : seg.init) inst.elems[i].elements.push_back(EvalConst(e, inst));
  }
  inst.datas.resize(module->datas.size());
  for (size_t i = 0; i < module->datas.size(); ++i) {
    const DataSegment& seg = module->datas[i];
    inst.datas[i].bytes = {module->bytes.data() + seg.data_offset, seg.data_size};
  }

  // 3. Active element segments, then active data segments, in order (table.init /
  // memory.init semantics: a segment out of bounds traps; earlier writes stay).
  for (size_t i = 0; i < module->elems.size(); ++i) {
    const ElemSegment& seg = module->elems[i];
    ElemInst& e = inst.elems[i];
    if (seg.mode == SegmentMode::kActive) {
      uint64_t offset = EvalConst(seg.offset, inst).i32();
      TableInst* t = inst.tables[seg.table_index];
      if (offset + e.elements.size() > t->elements.size())
        return trap_error(Trap::Make(TrapKind::kTableOutOfBounds));
      std::copy(e.elements.begin(), e.elements.end(), t->elements.begin() + offset);
    }
    if (seg.mode != SegmentMode::kPassive) e.elements = {};
  }
  for (size_t i = 0; i < module->datas.size(); ++i) {
    const DataSegment& seg = module->datas[i];
    DataInst& d = inst.datas[i];
    if (seg.mode != SegmentMode::kActive) continue;
    uint64_t offset = EvalConst(seg.offset, inst).i32();
    MemInst* m = inst.memories[seg.memory_index];
    if (offset + d.bytes.size() > m->size)
      return trap_error(Trap::Make(TrapKind::kMemoryOutOfBounds));
    // One system call maps the pages a large segment is about to fill (base/populate.h);
    // below 8 KiB it would save at most a fault or two, and a module may have thousands
    // of small segments.
    if (d.bytes.size() >= kPopulateSegmentBytes)
      base::PopulateForWrite(m->data + offset, d.bytes.size());
    if (!d.bytes.empty()) std::memcpy(m->data + offset, d.bytes.data(), d.bytes.size());
    d.bytes = {};
  }

  // 4. The start function.
  if (module->start) {
    if (auto t = Call(store, inst.funcs[*module->start], {}, {})) return trap_error(std::move(*t));
  }
  return &inst;
}

}  // namespace weft::wasm
