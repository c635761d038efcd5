// Store, memories, tables, globals, host functions and type interning.
#include <sys/mman.h>

#include <cstring>
#include <utility>

#include "wasm/runtime/store_impl.h"

namespace weft::wasm {
namespace {

constexpr uint64_t kPageSize = 65536;
// wasm32 effective addresses are < 2^32 + 2^32 (index + static offset), so an 8 GiB
// reservation plus a guard lets a later tier drop bounds checks (SIGSEGV path).
constexpr uint64_t kFullReservation = (8ull << 30) + kPageSize;

std::string TypeKey(const FuncType& t) {
  std::string k;
  for (ValType v : t.params) k.push_back(static_cast<char>(v));
  k.push_back('|');
  for (ValType v : t.results) k.push_back(static_cast<char>(v));
  return k;
}

}  // namespace

Store::Store(StoreLimits limits) : limits_(limits), objects_(std::make_unique<Objects>()) {}

Store::~Store() {
  for (auto& m : objects_->memories)
    if (m->data) munmap(m->data, m->reserved_bytes);
  if (objects_->exec.mapping) munmap(objects_->exec.mapping, objects_->exec.mapping_bytes);
}

void Store::UseExecStacks(void* memory, size_t bytes) {
  ExecState& st = objects_->exec;
  if (!st.slots && bytes >= ExecStackBytes(limits_.max_call_depth)) st.provided = memory;
}

uint32_t Store::InternType(const FuncType& type) {
  auto [it, inserted] =
      objects_->type_ids.emplace(TypeKey(type), static_cast<uint32_t>(objects_->type_ids.size()));
  return it->second;
}

FuncInst* Store::CreateHostFunc(FuncType type, HostFunc fn, void* user_data,
                                std::string debug_name) {
  auto owned_type = std::make_unique<FuncType>(std::move(type));
  auto f = std::make_unique<FuncInst>();
  f->type = owned_type.get();
  f->type_id = InternType(*owned_type);
  f->host = std::move(fn);
  f->user_data = user_data;
  f->debug_name = std::move(debug_name);
  objects_->host_types.push_back(std::move(owned_type));
  objects_->funcs.push_back(std::move(f));
  return objects_->funcs.back().get();
}

FuncInst* Store::CreateHostFunc(FuncType type, HostFuncPtr fn, void* user_data,
                                std::string debug_name, std::shared_ptr<void> keep_alive,
                                HostLeafPtr leaf) {
  FuncInst* f = CreateHostFunc(std::move(type), HostFunc(), user_data, std::move(debug_name));
  f->host_ptr = fn;
  f->host_leaf = fn != nullptr ? leaf : nullptr;
  f->keep_alive = std::move(keep_alive);
  return f;
}

MemInst* Store::CreateMemory(MemoryType type) {
  uint64_t max_pages = std::min<uint64_t>(type.limits.max.value_or(65536), limits_.max_memory_pages);
  max_pages = std::min<uint64_t>(max_pages, 65536);
  if (type.limits.min > max_pages) return nullptr;
  uint64_t reserve = kFullReservation;
  constexpr int kReserve = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
  void* p = MAP_FAILED;
  if (void* at = std::exchange(next_memory_at_, nullptr)) {
    // Without MAP_FIXED_NOREPLACE (Linux < 4.17) the address is only a hint: keep what
    // the kernel gave, wherever it is.
    p = mmap(at, reserve, PROT_NONE, kReserve | MAP_FIXED_NOREPLACE, -1, 0);
  }
  if (p == MAP_FAILED) p = mmap(nullptr, reserve, PROT_NONE, kReserve, -1, 0);
  if (p == MAP_FAILED) {
    // Fallback: reserve only what the memory may ever use.
    reserve = max_pages * kPageSize + kPageSize;
    p = mmap(nullptr, reserve, PROT_NONE, kReserve, -1, 0);
    if (p == MAP_FAILED) return nullptr;
  }
  auto m = std::make_unique<MemInst>();
  m->type = type;
  m->data = static_cast<uint8_t*>(p);
  m->reserved_bytes = reserve;
  m->max_pages = std::min<uint64_t>(max_pages, (reserve - kPageSize) / kPageSize);
  uint64_t bytes = type.limits.min * kPageSize;
  if (bytes && mprotect(m->data, bytes, PROT_READ | PROT_WRITE) != 0) {
    munmap(p, reserve);
    return nullptr;
  }
  m->size = bytes;
  objects_->memories.push_back(std::move(m));
  return objects_->memories.back().get();
}

int64_t MemInst::Grow(uint64_t delta_pages) {
  uint64_t old = pages();
  if (delta_pages > max_pages || old + delta_pages > max_pages) return -1;
  if (delta_pages == 0) return static_cast<int64_t>(old);
  if (mprotect(data + size, delta_pages * kPageSize, PROT_READ | PROT_WRITE) != 0) return -1;
  size += delta_pages * kPageSize;
  return static_cast<int64_t>(old);
}

TableInst* Store::CreateTable(TableType type, Value init) {
  auto t = std::make_unique<TableInst>();
  t->type = type;
  uint64_t max = std::min<uint64_t>(type.limits.max.value_or(UINT32_MAX), limits_.max_table_elements);
  t->max_elements = max;
  if (type.limits.min > max) return nullptr;
  t->elements.assign(type.limits.min, init);
  objects_->tables.push_back(std::move(t));
  return objects_->tables.back().get();
}

int64_t TableInst::Grow(uint64_t delta, Value init) {
  uint64_t old = elements.size();
  if (delta > max_elements || old + delta > max_elements) return -1;
  elements.resize(old + delta, init);
  return static_cast<int64_t>(old);
}

GlobalInst* Store::CreateGlobal(GlobalType type, Value value) {
  auto g = std::make_unique<GlobalInst>();
  g->type = type;
  g->value = value;
  objects_->globals.push_back(std::move(g));
  return objects_->globals.back().get();
}

MemInst* Caller::memory() const {
  if (!instance) return nullptr;
  if (MemInst* m = instance->GetMemory("memory")) return m;
  return instance->memories.empty() ? nullptr : instance->memories[0];
}

std::optional<Extern> Instance::GetExport(std::string_view export_name) const {
  auto it = exports.find(std::string(export_name));
  if (it == exports.end()) return std::nullopt;
  return it->second;
}

FuncInst* Instance::GetFunc(std::string_view export_name) const {
  auto e = GetExport(export_name);
  return e ? e->func() : nullptr;
}

MemInst* Instance::GetMemory(std::string_view export_name) const {
  auto e = GetExport(export_name);
  return e ? e->memory() : nullptr;
}

// ---- calling into wasm ----

namespace {
bool EnsureExecState(Store& store) {
  ExecState& st = store.objects().exec;
  if (st.slots) return true;
  const uint32_t depth = store.limits().max_call_depth;
  void* region = st.provided;
  if (region == nullptr) {
    const size_t bytes = ExecStackBytes(depth);
    region = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (region == MAP_FAILED) return false;
    st.mapping = region;
    st.mapping_bytes = bytes;
  }
  st.frames = static_cast<Frame*>(region);
  st.slots = reinterpret_cast<Value*>(static_cast<uint8_t*>(region) + ExecFrameRegionBytes(depth));
  st.num_slots = kExecSlotCount;
  st.sp_top = st.slots;
  return true;
}
}  // namespace

std::optional<Trap> Call(Store& store, FuncInst* func, std::span<const Value> args,
                         std::span<Value> results) {
  const size_t np = func->type->params.size();
  const size_t nr = func->type->results.size();
  if (args.size() != np || results.size() < nr)
    return Trap::Make(TrapKind::kHost, "Call: wrong number of arguments or results");
  if (func->is_host()) {
    Caller caller{store, nullptr, func->user_data};
    if (func->host_ptr != nullptr) {
      std::vector<Value> io(std::max(np, nr));  // arguments in, results out
      std::copy(args.begin(), args.end(), io.begin());
      if (auto t = func->host_ptr(caller, io.data())) return t;
      std::copy(io.begin(), io.begin() + nr, results.begin());
      return std::nullopt;
    }
    std::vector<Value> out(nr);
    if (auto t = func->host(caller, args.data(), out.data())) return t;
    std::copy(out.begin(), out.end(), results.begin());
    return std::nullopt;
  }
  if (!EnsureExecState(store)) return Trap::Make(TrapKind::kCallStackExhausted);
  ExecState& st = store.objects().exec;
  Value* fp = st.sp_top;
  if (fp + std::max(np, nr) > st.slots + st.num_slots)
    return Trap::Make(TrapKind::kCallStackExhausted);
  std::copy(args.begin(), args.end(), fp);
  std::optional<Trap> t = interp::Execute(store, func, fp);
  if (t) return t;
  std::copy(fp, fp + nr, results.begin());
  return std::nullopt;
}

Result<std::vector<Value>, Trap> Invoke(Store& store, FuncInst* func, std::span<const Value> args) {
  std::vector<Value> results(func->type->results.size());
  if (auto t = Call(store, func, args, results)) return Err(std::move(*t));
  return results;
}

}  // namespace weft::wasm
