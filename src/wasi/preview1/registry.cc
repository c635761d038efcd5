// The generic binder: turns every row of preview1.def into a Preview1Function whose
// `invoke` unpacks raw wasm arguments into the typed body. The C++ signature of each
// body is checked against the row's parameter letters at compile time.
#include <cctype>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include "wasi/preview1/bodies.h"

namespace weft::wasi {
namespace {

template <class F>
struct Body;
template <class... A>
struct Body<Result<void> (*)(Call&, A...)> {
  static constexpr size_t kArity = sizeof...(A);
  // True when every parameter's width matches its letter: U/X are i64, the rest i32.
  static constexpr bool Matches(const char* params) {
    size_t n = 0;
    while (params[n] != '\0') ++n;
    if (n != kArity) return false;
    bool wide[] = {(sizeof(A) == 8)..., false};
    for (size_t i = 0; i < n; ++i) {
      bool is_i64 = params[i] == 'U' || params[i] == 'X';
      if (wide[i] != is_i64) return false;
    }
    return true;
  }
  template <size_t... I>
  static Result<void> Apply(Result<void> (*fn)(Call&, A...), Call& call, const uint64_t* args,
                            std::index_sequence<I...>) {
    return fn(call, static_cast<A>(args[I])...);
  }
};

template <auto Fn>
Result<uint32_t> Invoke(Call& call, const uint64_t* args) {
  using B = Body<decltype(Fn)>;
  Result<void> r = B::Apply(Fn, call, args, std::make_index_sequence<B::kArity>{});
  if (r.ok()) return 0u;
  Error& e = r.error();
  if (e.is_trap()) return Err(std::move(e));
  return static_cast<uint32_t>(e.errno_value());
}

#define WASI_FN(name, params, returns_errno)                                          \
  static_assert(Body<decltype(&preview1::name)>::Matches(params),                     \
                "preview1::" #name " does not match its parameter letters in preview1.def");
#include "wasi/preview1.def"
#undef WASI_FN

constexpr Preview1Function kFunctions[] = {
#define WASI_FN(name, params, returns_errno) \
  {#name, params, returns_errno, &Invoke<&preview1::name>},
#include "wasi/preview1.def"
#undef WASI_FN
};

std::string FormatArgs(const Preview1Function& fn, const uint64_t* args) {
  std::string s = fn.name;
  s += '(';
  char buf[32];
  for (size_t i = 0; fn.params[i] != '\0'; ++i) {
    if (i) s += ", ";
    switch (fn.params[i]) {
      case 'p':
      case 'x':
      case 'X':
        std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(args[i]));
        break;
      default:
        std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(args[i]));
        break;
    }
    s += buf;
  }
  s += ')';
  return s;
}

}  // namespace

std::span<const Preview1Function> Preview1Functions() { return kFunctions; }

const Preview1Function* FindPreview1Function(std::string_view name) {
  for (const Preview1Function& f : kFunctions) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

Result<uint32_t> InvokePreview1Traced(const Preview1Function& fn, Call& call,
                                      const uint64_t* args) {
  Result<uint32_t> r = fn.invoke(call, args);
  std::string line = FormatArgs(fn, args);
  line += " -> ";
  if (r.ok()) {
    uint32_t e = r.value();
    if (e == 0) {
      line += '0';
    } else {
      std::string name = ErrnoName(static_cast<Errno>(e));
      for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      line += std::to_string(e) + " (E" + name + ")";
    }
  } else {
    const wasm::Trap& t = r.error().trap();
    if (t.kind == wasm::TrapKind::kExit) {
      line += "exit(" + std::to_string(t.exit_code) + ")";
    } else {
      line += "trap: " + t.detail;
    }
  }
  if (!call.note().empty()) line += " (" + call.note() + ")";
  call.ctx().Trace(line);
  return r;
}

}  // namespace weft::wasi
