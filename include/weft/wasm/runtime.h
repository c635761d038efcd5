// Runtime objects and the embedding API: Store, instances, host functions, the linker
// and calling into wasm.
//
// Ownership: a Store owns every runtime object created in it (functions, memories,
// tables, globals, instances); pointers stay valid until the Store is destroyed.
// Threads: a Store and everything in it is used by one thread at a time. The one
// exception is Store::Interrupt(), which any thread may call at any time.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "weft/wasm/module.h"
#include "weft/wasm/types.h"

namespace weft::wasm {

class Store;
struct Instance;
struct FuncInst;
struct MemInst;
struct TableInst;
struct GlobalInst;

// What a host function sees of its caller.
struct Caller {
  Store& store;
  Instance* instance;  // the calling instance; nullptr when the host invoked the function itself
  void* user_data;     // as given to Linker::DefineHostFunc / Store::CreateHostFunc
  // The memory exported as "memory", else the instance's memory 0, else nullptr.
  MemInst* memory() const;
};

// A host function reads args[0..params) and writes results[0..results). Returning a Trap
// stops the guest (e.g. proc_exit returns Trap::Exit(code)); returning nullopt continues.
using HostFunc =
    std::function<std::optional<Trap>(Caller& caller, const Value* args, Value* results)>;

// The fast form of a host function: a plain function pointer, called without
// std::function and without copying the arguments. `io` holds the arguments on entry and
// takes the results (the same slots), so read every argument before writing a result.
// Any state goes through Caller::user_data. Everything else is as for HostFunc
// (it may trap, and it may call back into wasm). WASI's functions use this form.
using HostFuncPtr = std::optional<Trap> (*)(Caller& caller, Value* io);

// An optional leaf form beside the fast form, for native (JIT) code to call with nothing
// around it: no Caller, no bookkeeping for backtraces or re-entry. Give one only for a
// function that never calls back into wasm. It gets `user_data`, the calling instance's
// memory (an instance with exactly one memory; other callers use the fast form) and `io`
// as the fast form does, and answers:
//   kHostLeafDone      the call is over, results written to io;
//   kHostLeafTrapped   it stops the guest with the Trap it stored in *trap;
//   kHostLeafDeclined  having changed nothing, it leaves the call to the fast form
//                      (an unusual case: tracing, an overridden clock, ...).
// WASI uses it: a cheap call such as clock_time_get is then about the host's own work.
enum HostLeafAnswer : int { kHostLeafDeclined = -1, kHostLeafTrapped = 0, kHostLeafDone = 1 };
using HostLeafPtr = int (*)(void* user_data, uint8_t* mem, uint64_t mem_size, Value* io,
                            std::optional<Trap>* trap);

// The interpreter's stacks for a store whose deepest call chain is `max_call_depth`
// frames: the frames (24 bytes each, rounded up to pages), then 4M value slots (32 MiB).
// Mapped without reserving memory, so most of it stays address space.
inline constexpr size_t kExecFrameBytes = 24;
inline constexpr size_t kExecSlotCount = size_t{1} << 22;
constexpr size_t ExecFrameRegionBytes(uint32_t max_call_depth) {
  return ((size_t{max_call_depth} + 1) * kExecFrameBytes + 4095) / 4096 * 4096;
}
constexpr size_t ExecStackBytes(uint32_t max_call_depth) {
  return ExecFrameRegionBytes(max_call_depth) + kExecSlotCount * sizeof(Value);
}

struct StoreLimits {
  uint32_t max_call_depth = 20000;        // wasm frames; deeper -> "call stack exhausted"
  uint64_t max_memory_pages = 65536;      // memory.grow beyond this returns -1
  uint64_t max_table_elements = 10000000; // table.grow beyond this returns -1
};

// Linear memory. `data` is stable for the memory's lifetime (the address space is
// reserved up front), so growing never moves it.
struct MemInst {
  MemoryType type;
  uint8_t* data = nullptr;
  uint64_t size = 0;  // in bytes; a multiple of 65536
  uint64_t max_pages = 0;      // effective maximum: module max, store limit, reservation
  uint64_t reserved_bytes = 0; // address space reserved at `data` (committed up to `size`)
  uint64_t pages() const { return size >> 16; }
  // Returns the old size in pages, or -1 if the module's max or the store limit refuses.
  int64_t Grow(uint64_t delta_pages);
  // Bounds-checked view for host functions; empty optional when [offset, offset+len) is out of range.
  bool InBounds(uint64_t offset, uint64_t len) const { return offset <= size && len <= size - offset; }
};

struct TableInst {
  TableType type;
  std::vector<Value> elements;  // funcref: FuncInst* bits; externref: host value; 0 = null
  uint64_t max_elements = 0;    // effective maximum (type max or store limit)
  int64_t Grow(uint64_t delta, Value init);  // old size or -1
};

struct GlobalInst {
  GlobalType type;
  Value value;
};

struct FuncInst {
  const FuncType* type = nullptr;  // owned by the module or the store
  uint32_t type_id = 0;            // canonical id in the store: equal ids <=> equal types
  // Wasm function:
  Instance* instance = nullptr;
  uint32_t func_index = 0;         // index in instance->module's function space
  void* compiled = nullptr;        // the interpreter's code, created on first call (lazy)
  // Native code (x86-64 JIT) that other native code calls, and the frame size it needs;
  // set when the JIT translates the function (once it is hot). Read by generated code:
  // keep adjacent.
  void* jit_code = nullptr;
  uint64_t jit_frame_slots = 0;
  // Host function (instance == nullptr): exactly one of host_ptr and host is set.
  HostFuncPtr host_ptr = nullptr;
  HostLeafPtr host_leaf = nullptr;  // optional, with host_ptr (see HostLeafPtr)
  HostFunc host;
  void* user_data = nullptr;
  std::shared_ptr<void> keep_alive;  // owns what user_data points to, if anything
  std::string debug_name;          // "module.name" for host functions
  bool is_host() const { return instance == nullptr; }
};

// An external value: what an import needs and an export gives.
struct Extern {
  ExternKind kind = ExternKind::kFunc;
  void* ptr = nullptr;
  static Extern Func(FuncInst* f) { return {ExternKind::kFunc, f}; }
  static Extern Table(TableInst* t) { return {ExternKind::kTable, t}; }
  static Extern Memory(MemInst* m) { return {ExternKind::kMemory, m}; }
  static Extern Global(GlobalInst* g) { return {ExternKind::kGlobal, g}; }
  FuncInst* func() const { return kind == ExternKind::kFunc ? static_cast<FuncInst*>(ptr) : nullptr; }
  TableInst* table() const { return kind == ExternKind::kTable ? static_cast<TableInst*>(ptr) : nullptr; }
  MemInst* memory() const { return kind == ExternKind::kMemory ? static_cast<MemInst*>(ptr) : nullptr; }
  GlobalInst* global() const { return kind == ExternKind::kGlobal ? static_cast<GlobalInst*>(ptr) : nullptr; }
};

struct ElemInst {
  ValType type = ValType::kFuncRef;
  std::vector<Value> elements;  // emptied by elem.drop
};

struct DataInst {
  std::span<const uint8_t> bytes;  // into module->bytes; emptied by data.drop
};

struct Instance {
  std::shared_ptr<const Module> module;
  std::string name;  // registered name (for backtraces), may be empty
  std::vector<FuncInst*> funcs;
  std::vector<TableInst*> tables;
  std::vector<MemInst*> memories;
  std::vector<GlobalInst*> globals;
  std::vector<ElemInst> elems;
  std::vector<DataInst> datas;
  std::unordered_map<std::string, Extern> exports;
  std::vector<uint32_t> type_ids;  // store-canonical id of each module type (call_indirect)
  // module->translated when this instance's imports are linked as they were then (set by
  // Linker::Instantiate); its functions start from that code instead of translating.
  std::shared_ptr<const TranslatedCode> translated;

  std::optional<Extern> GetExport(std::string_view export_name) const;
  FuncInst* GetFunc(std::string_view export_name) const;
  MemInst* GetMemory(std::string_view export_name) const;
};

class Store {
 public:
  explicit Store(StoreLimits limits = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const StoreLimits& limits() const { return limits_; }

  // Puts the interpreter's stacks in `memory` instead of a mapping the store makes on its
  // first call: at least ExecStackBytes(limits().max_call_depth) bytes, 4096-aligned, used
  // by no other store while this one lives (its contents need not be zero). Ignored after
  // the first call into wasm, or when `bytes` is too small. The weft executable passes a
  // static array placed after its .bss: the first touch of a fresh mapping costs new page
  // tables, which there already exist (-80 us of a short run here, issue 5).
  void UseExecStacks(void* memory, size_t bytes);
  // Asks for the next memory's address-space reservation at `address` (64 KiB-aligned)
  // when that whole range is free; otherwise, and for later memories, the kernel chooses.
  // weft run asks for the space just above the vDSO, whose page tables exist already
  // (the first touch of a memory elsewhere needs new ones: -50 us a short run, issue 5).
  void PlaceNextMemoryAt(void* address) { next_memory_at_ = address; }

  // Thread-safe. The running guest stops with TrapKind::kInterrupted at its next call or
  // loop back-edge (and a host function blocked on the embedder's behalf should check
  // interrupted()). Stays set until ClearInterrupt().
  void Interrupt() { interrupt_.store(true, std::memory_order_relaxed); }
  void ClearInterrupt() { interrupt_.store(false, std::memory_order_relaxed); }
  bool interrupted() const { return interrupt_.load(std::memory_order_relaxed); }
  std::atomic<bool>* interrupt_flag() { return &interrupt_; }

  FuncInst* CreateHostFunc(FuncType type, HostFunc fn, void* user_data = nullptr,
                           std::string debug_name = {});
  // The fast form. `keep_alive` (optional) is kept as long as the function lives: give it
  // the object `user_data` points to when the store should own it. `leaf` (optional) is
  // its leaf form (see HostLeafPtr).
  FuncInst* CreateHostFunc(FuncType type, HostFuncPtr fn, void* user_data,
                           std::string debug_name = {}, std::shared_ptr<void> keep_alive = {},
                           HostLeafPtr leaf = nullptr);
  MemInst* CreateMemory(MemoryType type);  // nullptr if the address space cannot be reserved
  TableInst* CreateTable(TableType type, Value init = {});
  GlobalInst* CreateGlobal(GlobalType type, Value value);

  // Canonical id of a function type within this store (for call_indirect checks).
  uint32_t InternType(const FuncType& type);

  // Store-owned objects; implementation detail of the runtime.
  struct Objects;
  Objects& objects() { return *objects_; }

 private:
  StoreLimits limits_;
  std::atomic<bool> interrupt_{false};
  void* next_memory_at_ = nullptr;
  std::unique_ptr<Objects> objects_;
};

// Why instantiation failed: a link error (unknown import / incompatible import type),
// or a trap while initialising (segment out of bounds) or in the start function.
struct InstantiateError {
  enum class Kind : uint8_t { kLink, kTrap } kind = Kind::kLink;
  Diag link;  // kLink: "unknown import: env.foo", "incompatible import type: env.foo"
  Trap trap;  // kTrap
  std::string Message() const;
};

class Linker {
 public:
  void Define(std::string module, std::string name, Extern value);
  // Defines a host function of `store`. The FuncInst is created in `store` when the
  // definition is first resolved (by Instantiate or Get), once: a linker set up with all
  // of WASI's functions for a guest that imports a few creates only those (start-up,
  // issue 5). Copies of the linker share that one FuncInst. `store` must still exist at
  // that point and, like any store, be used by one thread at a time.
  void DefineHostFunc(Store& store, std::string module, std::string name, FuncType type,
                      HostFunc fn, void* user_data = nullptr);
  // The fast form, with its optional leaf form (see HostFuncPtr, HostLeafPtr and
  // Store::CreateHostFunc).
  void DefineHostFunc(Store& store, std::string module, std::string name, FuncType type,
                      HostFuncPtr fn, void* user_data, std::shared_ptr<void> keep_alive = {},
                      HostLeafPtr leaf = nullptr);
  // A host function in its fast form, as DefineHostFunc takes it.
  struct HostFuncSpec {
    FuncType type;
    HostFuncPtr fn = nullptr;
    void* user_data = nullptr;
    std::shared_ptr<void> keep_alive;
    HostLeafPtr leaf = nullptr;
  };
  // The function `name` of a host module, or nullopt when the module has none by that name.
  using HostFuncFinder = std::function<std::optional<HostFuncSpec>(std::string_view name)>;
  // Defines the functions of host module `module` on demand: `find` is asked for a name
  // the first time an import (or Get) names it, and the function is created in `store`
  // then, once, shared by copies of the linker. A module the size of WASI thus costs a
  // guest only the functions it imports (start-up, issue 5). It replaces earlier
  // definitions in `module`; later ones by name (Define, DefineHostFunc) take precedence.
  void DefineHostModule(Store& store, std::string module, HostFuncFinder find);
  // Defines every export of `instance` under `module` (the spec tests' `register`).
  void DefineInstance(std::string module, const Instance& instance);
  // Creates a host function on first use (see DefineHostFunc).
  std::optional<Extern> Get(std::string_view module, std::string_view name) const;

  // Resolves imports, allocates, runs active segments, then the start function.
  // On a trap in a segment or the start function the instance is not returned
  // (but objects it already wrote to, like an imported table, keep the writes, per spec).
  Result<Instance*, InstantiateError> Instantiate(Store& store, std::shared_ptr<const Module> module,
                                                  std::string instance_name = {});

 private:
  // A host function as defined; `created` once it exists in `store`. Shared (not copied)
  // by copies of the linker, so that they all resolve to the same FuncInst.
  struct HostFuncDef {
    Store* store = nullptr;
    HostFuncSpec spec;  // the fast form when spec.fn is set; else the type and user_data of fn
    HostFunc fn;
    FuncInst* created = nullptr;
  };
  using Key = std::pair<std::string, std::string>;
  // A module defined by DefineHostModule, with the definitions made from it so far.
  // Shared (not copied) by copies of the linker, as HostFuncDef is.
  struct HostModule {
    Store* store = nullptr;
    HostFuncFinder find;
    std::map<std::string, std::shared_ptr<HostFuncDef>, std::less<>> made;
  };
  static std::shared_ptr<HostFuncDef> FastDef(Store& store, HostFuncSpec spec);
  FuncInst* Create(std::string_view module, std::string_view name, HostFuncDef& def) const;
  void DefineHost(std::string module, std::string name, std::shared_ptr<HostFuncDef> def);
  // From a module defined by DefineHostModule, made on first use; nullptr if none.
  HostFuncDef* FindInHostModule(std::string_view module, std::string_view name) const;
  // A name is in at most one of the two maps; the later definition wins. Both win over
  // host_modules_.
  std::map<Key, Extern, std::less<>> defs_;
  std::map<Key, std::shared_ptr<HostFuncDef>, std::less<>> host_defs_;
  std::map<std::string, std::shared_ptr<HostModule>, std::less<>> host_modules_;
};

// Calls `func` with args (count and types as func->type->params) and writes the results
// into `results` (func->type->results.size() slots). A trap comes back as a value with
// its backtrace; nothing is thrown. Re-entrant: host functions may call Call().
std::optional<Trap> Call(Store& store, FuncInst* func, std::span<const Value> args,
                         std::span<Value> results);

// Convenience: allocates the results vector.
Result<std::vector<Value>, Trap> Invoke(Store& store, FuncInst* func, std::span<const Value> args);

}  // namespace weft::wasm
