// `weft run`: argument parsing, reading and decoding the module, the process-level set-up
// (heap, store layout, exit); run_module.cc runs it.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <elf.h>
#include <link.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "base/populate.h"
#include "cli.h"
#include "weft/wasm/runtime.h"

namespace weft::cli {
namespace {

using weft::wasm::Trap;
using weft::wasm::ValType;
using weft::wasm::Value;

DirOption ParseDir(std::string spec) {
  DirOption d;
  for (const char* suffix : {":readonly", ":ro"}) {
    size_t n = std::strlen(suffix);
    if (spec.size() > n && spec.compare(spec.size() - n, n, suffix) == 0) {
      d.read_only = true;
      spec.resize(spec.size() - n);
      break;
    }
  }
  size_t sep = spec.find("::");
  if (sep == std::string::npos) {
    d.host = spec;
    d.guest = spec;
  } else {
    d.host = spec.substr(0, sep);
    d.guest = spec.substr(sep + 2);
  }
  return d;
}

// Start-up (issue 5): before the guest's first instruction `weft run hello.wasm` writes
// ~50 KB of fresh heap (the module, its decoded form, the WASI context, the compiled
// functions: 12 of its 59 page faults). The free end of malloc's heap, up to the break,
// is mapped in one call instead (base/populate.h): 59 -> 47 faults, ~25-30 us of ~2.3 ms
// in three interleaved rounds of 600 spawns.
void PopulateHeapTop() {
  constexpr uintptr_t kMaxBytes = 128 * 1024;
  void* probe = std::malloc(1);  // lands at the heap's free end on a fresh heap
  uintptr_t top = reinterpret_cast<uintptr_t>(probe);
  uintptr_t brk_end = reinterpret_cast<uintptr_t>(sbrk(0));
  std::free(probe);
  // Not when malloc's memory does not come from the break (mmap'ed, above it).
  if (top < brk_end) {
    base::PopulateForWrite(reinterpret_cast<void*>(top),
                           std::min<uintptr_t>(brk_end - top, kMaxBytes));
  }
}

}  // namespace

int Fail(const std::string& message) {
  std::fprintf(stderr, "Error: %s\n", message.c_str());
  return 1;
}

// Parses one --invoke argument by the parameter's type.
bool ParseValue(const std::string& text, ValType type, Value* out) {
  if (text.empty()) return false;
  const char* s = text.c_str();
  char* end = nullptr;
  errno = 0;
  switch (type) {
    case ValType::kI32: {
      long long v = std::strtoll(s, &end, 10);
      if (*end || errno || v < INT32_MIN || v > UINT32_MAX) return false;
      *out = Value::I32(static_cast<uint32_t>(v));
      return true;
    }
    case ValType::kI64: {
      if (text[0] == '-') {
        long long v = std::strtoll(s, &end, 10);
        if (*end || errno) return false;
        *out = Value::I64(static_cast<uint64_t>(v));
      } else {
        unsigned long long v = std::strtoull(s, &end, 10);
        if (*end || errno) return false;
        *out = Value::I64(v);
      }
      return true;
    }
    case ValType::kF32: {
      float v = std::strtof(s, &end);
      if (*end) return false;
      *out = Value::F32(v);
      return true;
    }
    case ValType::kF64: {
      double v = std::strtod(s, &end);
      if (*end) return false;
      *out = Value::F64(v);
      return true;
    }
    default:
      return false;
  }
}


std::optional<RunOptions> ParseRunArgs(const std::vector<std::string>& argv, std::string* error) {
  RunOptions o;
  size_t i = 0;
  auto value_of = [&](const std::string& arg, const std::string& name,
                      std::string* value) -> bool {
    if (arg == name) {
      if (i + 1 >= argv.size()) {
        *error = "option " + name + " needs a value";
        return false;
      }
      *value = argv[++i];
      return true;
    }
    *value = arg.substr(name.size() + 1);  // --name=value
    return true;
  };
  for (; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') break;  // the module
    std::string name = arg.substr(0, arg.find('='));
    std::string value;
    if (name == "--invoke") {
      if (!value_of(arg, name, &value)) return std::nullopt;
      o.invoke = value;
    } else if (name == "--dir") {
      if (!value_of(arg, name, &value)) return std::nullopt;
      if (value.empty()) {
        *error = "--dir needs a directory";
        return std::nullopt;
      }
      o.dirs.push_back(ParseDir(value));
    } else if (name == "--env") {
      if (!value_of(arg, name, &value)) return std::nullopt;
      size_t eq = value.find('=');
      if (value.empty() || eq == 0) {
        *error = "--env needs NAME=VALUE or NAME";
        return std::nullopt;
      }
      if (eq == std::string::npos)
        o.env.emplace_back(value, std::nullopt);
      else
        o.env.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    } else if (name == "--tcplisten") {
      if (!value_of(arg, name, &value)) return std::nullopt;
      o.tcplisten.push_back(value);
    } else if (arg == "--trace-wasi") {
      o.trace_wasi = true;
    } else if (name == "-C" || name == "--codegen") {
      // wasmtime's spelling: -C cache=n. Only the cache switch is weft's to honour.
      if (!value_of(arg, name, &value)) return std::nullopt;
      if (value == "cache" || value == "cache=y" || value == "cache=yes" || value == "cache=true") {
        o.cache = true;
      } else if (value == "cache=n" || value == "cache=no" || value == "cache=false") {
        o.cache = false;
      } else {
        *error = "unsupported codegen option " + value + " (weft knows cache=y|n)";
        return std::nullopt;
      }
    } else {
      *error = "unknown option " + arg;
      return std::nullopt;
    }
  }
  if (i >= argv.size()) {
    *error = "no module given";
    return std::nullopt;
  }
  o.module_path = argv[i++];
  o.args.assign(argv.begin() + static_cast<std::ptrdiff_t>(i), argv.end());
  return o;
}

// libgcov's, present only in an instrumented build (WEFT_PGO=GENERATE): _exit skips the
// atexit hook that would write the profile. Weak, so every build has the same code here
// (a profile must match the code it is used on).
extern "C" [[gnu::weak]] void __gcov_dump();

// The stacks of the store a run makes (RunStoreLayout). In .lbss, which the linker places
// after .bss: the first frames and slots share page tables with .data and .bss. Address
// space until touched; entry.cc's populate stops where it starts.
extern "C" {
#if defined(__x86_64__)
[[gnu::section(".lbss")]]
#endif
alignas(4096) char weft_exec_stacks[wasm::ExecStackBytes(wasm::StoreLimits{}.max_call_depth)];
}

namespace {

std::atomic<bool> exec_stacks_held{false};

// The first 64 KiB boundary above the vDSO, or nullptr without one or when the main
// thread's stack is too close above it. The kernel maps the vDSO above a static
// executable's image with the address space beyond it free, and glibc's start-up has read
// it, so its 2 MiB already has page tables. The kernel keeps the stack's growth room free
// of its own mappings; a fixed one must keep clear of it too.
void* AboveVdso() {
  const uintptr_t base = getauxval(AT_SYSINFO_EHDR);
  if (base == 0) return nullptr;
  const auto* ehdr = reinterpret_cast<const ElfW(Ehdr)*>(base);
  const auto* phdr = reinterpret_cast<const ElfW(Phdr)*>(base + ehdr->e_phoff);
  uintptr_t first = UINTPTR_MAX, end = 0;  // link-time addresses of the loaded range
  for (int i = 0; i < ehdr->e_phnum; ++i) {
    if (phdr[i].p_type != PT_LOAD) continue;
    first = std::min<uintptr_t>(first, phdr[i].p_vaddr - phdr[i].p_offset);
    end = std::max<uintptr_t>(end, phdr[i].p_vaddr + phdr[i].p_memsz);
  }
  if (end == 0) return nullptr;
  const uintptr_t above = (base + (end - first) + 0xFFFF) & ~uintptr_t{0xFFFF};
  // A memory's reservation (a little over 8 GiB), then 1 GiB of room for the stack.
  constexpr uintptr_t kNeeded = (8ull << 30) + (1ull << 16) + (1ull << 30);
  const auto stack = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  if (stack < above || stack - above < kNeeded) return nullptr;
  return reinterpret_cast<void*>(above);
}

}  // namespace

RunStoreLayout::RunStoreLayout() : holds_stacks_(!exec_stacks_held.exchange(true)) {}
RunStoreLayout::~RunStoreLayout() {
  if (holds_stacks_) exec_stacks_held.store(false);
}
void RunStoreLayout::ApplyTo(wasm::Store& store) const {
  if (holds_stacks_) store.UseExecStacks(weft_exec_stacks, sizeof weft_exec_stacks);
  if (void* at = AboveVdso()) store.PlaceNextMemoryAt(at);
}

void ExitNow(int code) {
  std::fflush(nullptr);
  if (__gcov_dump != nullptr) __gcov_dump();
  _exit(code);
}

int Done(const RunOptions& options, int code) {
  if (options.exit_when_done) ExitNow(code);
  return code;
}

int ReportTrap(const RunOptions& options, const Trap& trap, const std::string& what) {
  std::string s = "Error: failed to run main module `" + options.module_path + "`\n\nCaused by:\n";
  int n = 0;
  if (!what.empty()) s += "    " + std::to_string(n++) + ": " + what + "\n";
  if (!trap.backtrace.empty()) {
    s += "    " + std::to_string(n++) + ": error while executing at wasm backtrace:\n";
    for (size_t k = 0; k < trap.backtrace.size(); ++k) {
      const auto& f = trap.backtrace[k];
      char line[64];
      std::snprintf(line, sizeof line, "           %zu: %#6x - ", k, f.code_offset);
      s += line;
      s += f.module_name.empty() ? "<unknown>" : f.module_name;
      s += "!";
      s += f.func_name.empty() ? "<wasm function " + std::to_string(f.func_index) + ">"
                               : f.func_name;
      s += "\n";
    }
  }
  s += "    " + std::to_string(n++) + ": wasm trap: " + trap.Message() + "\n";
  std::fputs(s.c_str(), stderr);
  return 134;
}

int Run(const RunOptions& options) {
  PopulateHeapTop();
  std::vector<uint8_t> bytes;
  std::string error;
  if (!ReadModuleFile(options.module_path, &bytes, &error))
    return Fail("failed to read `" + options.module_path + "`: " + error);
  weft::wasm::CodeCache cache = RunCache(options);
  auto decoded = cache.Decode(std::move(bytes));
  if (!decoded.ok())
    return Fail("failed to compile `" + options.module_path + "`: " + decoded.error().ToString());
  std::shared_ptr<const weft::wasm::Module> module = std::move(decoded).value();

  std::shared_ptr<weft::wasi::Ctx> ctx;
  if (ImportsWasi(*module)) {
    weft::wasi::CtxBuilder builder;
    builder.InheritStdio();
    auto built = BuildWasiCtx(options, builder);
    if (!built.ok()) return Fail(built.error());
    ctx = std::move(built).value();
  }
  RunStoreLayout layout;
  weft::wasm::Store store;
  layout.ApplyTo(store);
  return Done(options, RunModule(options, store, std::move(module), std::move(ctx), cache));
}

}  // namespace weft::cli
