// weft_compile_bench: decode+validate and compile throughput of weft's engine.
//
// Usage: weft_compile_bench [--reps N] FILE.wasm...
// For each module, N times (default 20): DecodeModule (decode + validate) from the
// bytes, then instantiate it in a fresh Store with stub host functions for its imports
// and compile every defined function to the interpreter's code (which `weft run` does
// lazily, on first call). Prints one line per module and a total line:
//   <name> bytes=<B> code_bytes=<C> funcs=<F> decode_ms=<median> compile_ms=<median>
//   total bytes=... decode_MBps=<B/decode> compile_MBps=<C/compile> jit_MBps=<C/jit>
//         internal_ratio=<interpreter code / C> native_ratio=<JIT code / C>
//         locations_ratio=<backtrace location tables / C>
// Throughput is in MB/s (10^6 bytes): decode against the whole file, compile against
// the code section bodies it translates. Exit status 1 if a module fails.
//
// Uses CompileFunction from the runtime's internal header (there is no public
// eager-compile API yet); that is why this tool is built only for the bench target.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "wasm/runtime/store_impl.h"
#include "weft/wasm/module.h"
#include "weft/wasm/runtime.h"

namespace {

using Clock = std::chrono::steady_clock;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

struct Measured {
  size_t bytes = 0;
  size_t code_bytes = 0;
  size_t funcs = 0;
  double decode_ms = 0;
  double compile_ms = 0;
  double jit_ms = 0;
  size_t internal_bytes = 0;  // the interpreter's code for every function
  size_t native_bytes = 0;    // the JIT's machine code for every function (0 without JIT)
  size_t locations_bytes = 0;  // the byte offset of each instruction, built on a trap
};

// Decodes, instantiates with stub imports and compiles every function, reps times.
bool Measure(const std::string& path, int reps, Measured* out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read " + path;
    return false;
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  out->bytes = bytes.size();
  std::vector<double> decode_ms, compile_ms, jit_ms;
  for (int r = 0; r < reps; ++r) {
    auto start = Clock::now();
    auto decoded = weft::wasm::DecodeModule(bytes);
    decode_ms.push_back(MsSince(start));
    if (!decoded.ok()) {
      *error = path + ": decode failed: " + decoded.error().ToString();
      return false;
    }
    std::shared_ptr<const weft::wasm::Module> module = decoded.value();

    weft::wasm::Store store;
    weft::wasm::Linker linker;
    for (const auto& imp : module->imports) {
      if (imp.kind != weft::wasm::ExternKind::kFunc) {
        *error = path + ": only function imports are stubbed";
        return false;
      }
      linker.DefineHostFunc(store, imp.module, imp.name, module->types[imp.type_index],
                            [](weft::wasm::Caller&, const weft::wasm::Value*,
                               weft::wasm::Value*) -> std::optional<weft::wasm::Trap> {
                              return std::nullopt;
                            });
    }
    auto inst = linker.Instantiate(store, module);
    if (!inst.ok()) {
      *error = path + ": instantiate failed: " + inst.error().Message();
      return false;
    }
    start = Clock::now();
    size_t funcs = 0;
    for (weft::wasm::FuncInst* f : inst.value()->funcs) {
      if (f->is_host() || f->compiled != nullptr) continue;
      if (weft::wasm::CompileFunction(store, f) == nullptr) {
        *error = path + ": compiling function " + std::to_string(f->func_index) + " failed";
        return false;
      }
      ++funcs;
    }
    compile_ms.push_back(MsSince(start));
    // Then the JIT (which `weft run` applies only to hot functions).
    start = Clock::now();
    for (weft::wasm::FuncInst* f : inst.value()->funcs)
      if (!f->is_host()) weft::wasm::CompileNativeCode(store, f);
    jit_ms.push_back(MsSince(start));
    out->internal_bytes = out->native_bytes = out->locations_bytes = 0;
    for (weft::wasm::FuncInst* f : inst.value()->funcs) {
      if (f->is_host()) continue;
      auto* cf = static_cast<const weft::wasm::CompiledFunc*>(f->compiled);
      out->internal_bytes += cf->code.size() * sizeof(weft::wasm::CodeWord);
      out->native_bytes += cf->native_size;
      weft::wasm::CodeOffsetAt(f, 0);  // what a trap through f builds (untimed)
      out->locations_bytes += cf->locations->bytes();
    }
    out->funcs = funcs;
    out->code_bytes = 0;
    for (const auto& fn : module->functions) out->code_bytes += fn.body_size;
  }
  out->decode_ms = Median(decode_ms);
  out->compile_ms = Median(compile_ms);
  out->jit_ms = Median(jit_ms);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 20;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--reps" && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else {
      files.push_back(arg);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: weft_compile_bench [--reps N] FILE.wasm...\n");
    return 2;
  }
  Measured total;
  for (const std::string& file : files) {
    Measured m;
    std::string error;
    if (!Measure(file, reps, &m, &error)) {
      std::fprintf(stderr, "weft_compile_bench: %s\n", error.c_str());
      return 1;
    }
    std::string name = file.substr(file.find_last_of('/') + 1);
    std::printf("%s bytes=%zu code_bytes=%zu funcs=%zu decode_ms=%.3f compile_ms=%.3f "
                "jit_ms=%.3f internal_bytes=%zu native_bytes=%zu locations_bytes=%zu\n",
                name.c_str(), m.bytes, m.code_bytes, m.funcs, m.decode_ms, m.compile_ms, m.jit_ms,
                m.internal_bytes, m.native_bytes, m.locations_bytes);
    total.bytes += m.bytes;
    total.code_bytes += m.code_bytes;
    total.funcs += m.funcs;
    total.decode_ms += m.decode_ms;
    total.compile_ms += m.compile_ms;
    total.jit_ms += m.jit_ms;
    total.internal_bytes += m.internal_bytes;
    total.native_bytes += m.native_bytes;
    total.locations_bytes += m.locations_bytes;
  }
  // bytes per millisecond / 1000 = MB/s
  std::printf("total bytes=%zu code_bytes=%zu funcs=%zu decode_ms=%.3f compile_ms=%.3f "
              "decode_MBps=%.1f compile_MBps=%.1f jit_MBps=%.1f internal_ratio=%.2f "
              "native_ratio=%.2f locations_ratio=%.2f\n",
              total.bytes, total.code_bytes, total.funcs, total.decode_ms, total.compile_ms,
              total.decode_ms > 0 ? total.bytes / total.decode_ms / 1000.0 : 0.0,
              total.compile_ms > 0 ? total.code_bytes / total.compile_ms / 1000.0 : 0.0,
              total.jit_ms > 0 ? total.code_bytes / total.jit_ms / 1000.0 : 0.0,
              total.code_bytes ? static_cast<double>(total.internal_bytes) / total.code_bytes : 0.0,
              total.code_bytes ? static_cast<double>(total.native_bytes) / total.code_bytes : 0.0,
              total.code_bytes ? static_cast<double>(total.locations_bytes) / total.code_bytes : 0.0);
  return 0;
}
