// weft_spec: runs the WebAssembly spec testsuite (.wast files) against weft's public
// engine API (DecodeModule, Store, Linker, Call).
//
//   weft_spec [--wast2json PATH] [--work-dir DIR] [--known-failures FILE] [-v]
//             <file.wast | directory>...
//
// Each .wast is converted with `wast2json` into --work-dir/<name>/, then every command of
// the JSON is executed. A directory argument means every *.wast in it except simd_*.wast.
//
// Matching rules (documented in tests/spec/README.md):
//  - assert_malformed / assert_invalid (binary form): DecodeModule must fail and its
//    message must START WITH the expected text (the reference interpreter's rule: e.g.
//    "unexpected end" accepts "unexpected end of section or function", "unknown global"
//    accepts "unknown global 3"). Text-form assert_malformed are skipped (weft has no
//    text parser), and counted separately.
//  - assert_trap / assert_exhaustion / assert_uninstantiable: the trap's message must
//    start with the expected text, or the expected text must start with the trap's
//    message (the spec writes "uninitialized element 2" where weft says "uninitialized
//    element").
//  - assert_unlinkable: a link error whose message starts with the expected text.
//  - assert_return: exact bits for numbers, nan:canonical / nan:arithmetic per the spec,
//    references by identity: externref N is passed as the host value N+1 (0 is null),
//    `(ref.func)` / `(ref.extern)` without a value accept any non-null reference.
// Known failures (tests/spec/known_failures.txt, "file.wast:line  reason") are reported
// but do not fail; a known failure that passes is a failure ("unexpected pass").
//
// Output: one line per file "name: P passed, F failed, S skipped", then
// "N passed, M failed" and a line with the skips; exit status 0 only when nothing failed.
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "weft/wasm/module.h"
#include "weft/wasm/runtime.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace weft::wasm;

namespace {

struct Options {
  std::string wast2json = "wast2json";
  fs::path work_dir = "spec-json";
  fs::path known_failures;
  bool verbose = false;
  double command_timeout_s = 20;
};

struct Totals {
  uint64_t passed = 0, failed = 0, skipped = 0, skipped_text = 0, known = 0;
};

std::vector<uint8_t> ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), {});
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

ValType ParseType(const std::string& t) {
  if (t == "i32") return ValType::kI32;
  if (t == "i64") return ValType::kI64;
  if (t == "f32") return ValType::kF32;
  if (t == "f64") return ValType::kF64;
  if (t == "funcref") return ValType::kFuncRef;
  if (t == "externref") return ValType::kExternRef;
  return ValType::kV128;
}

// Interrupts the store if a command runs longer than the timeout (a hang is a failure,
// not a stuck test run).
class Watchdog {
 public:
  explicit Watchdog(double seconds) : seconds_(seconds), thread_([this] { Loop(); }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void Arm(Store* store) {
    std::lock_guard<std::mutex> l(mu_);
    store_ = store;
    deadline_ = std::chrono::steady_clock::now() +
                std::chrono::milliseconds(static_cast<int64_t>(seconds_ * 1000));
    cv_.notify_all();
  }
  void Disarm() {
    std::lock_guard<std::mutex> l(mu_);
    store_ = nullptr;
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> l(mu_);
    while (!stop_) {
      if (store_ == nullptr) {
        cv_.wait(l);
        continue;
      }
      if (cv_.wait_until(l, deadline_) == std::cv_status::timeout && store_ != nullptr &&
          std::chrono::steady_clock::now() >= deadline_) {
        store_->Interrupt();
        store_ = nullptr;
      }
    }
  }
  double seconds_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  Store* store_ = nullptr;
  std::chrono::steady_clock::time_point deadline_;
  std::thread thread_;
};

class WastRunner {
 public:
  WastRunner(const Options& opt, const std::string& file_name, const fs::path& json_dir,
             const std::set<std::string>& known)
      : opt_(opt), file_name_(file_name), dir_(json_dir), known_(known), watchdog_(opt.command_timeout_s) {}

  Totals Run(const json& doc) {
    SetUpSpectest();
    Totals t;
    const auto& commands = doc["commands"];
    for (const auto& cmd : commands) {
      line_ = cmd.value("line", 0);
      std::string why;
      Outcome o = Execute(cmd, &why);
      std::string key = file_name_ + ":" + std::to_string(line_);
      bool is_known = known_.count(key) != 0;
      switch (o) {
        case Outcome::kPass:
          if (is_known) {
            ++t.failed;
            Report(key, "unexpected pass (listed in known_failures.txt)");
          } else {
            ++t.passed;
          }
          break;
        case Outcome::kFail:
          if (is_known) {
            ++t.known;
            if (opt_.verbose) Report(key, "known failure: " + why);
          } else {
            ++t.failed;
            Report(key, cmd.value("type", "?") + ": " + why);
          }
          break;
        case Outcome::kSkipText:
          ++t.skipped;
          ++t.skipped_text;
          break;
        case Outcome::kSkip:
          ++t.skipped;
          break;
      }
    }
    uint64_t accounted = t.passed + t.failed + t.skipped + t.known;
    if (accounted != commands.size()) {
      std::fprintf(stderr, "%s: INTERNAL: %llu commands accounted for, JSON has %zu\n",
                   file_name_.c_str(), static_cast<unsigned long long>(accounted), commands.size());
      t.failed += 1;
    }
    return t;
  }

 private:
  enum class Outcome { kPass, kFail, kSkip, kSkipText };

  void Report(const std::string& key, const std::string& msg) {
    std::printf("  %s: %s\n", key.c_str(), msg.c_str());
  }

  void SetUpSpectest() {
    auto host = [this](const char* name, FuncType type) {
      linker_.DefineHostFunc(store_, "spectest", name, std::move(type),
                             [](Caller&, const Value*, Value*) -> std::optional<Trap> {
                               return std::nullopt;
                             });
    };
    using V = ValType;
    host("print", FuncType{{}, {}});
    host("print_i32", FuncType{{V::kI32}, {}});
    host("print_i64", FuncType{{V::kI64}, {}});
    host("print_f32", FuncType{{V::kF32}, {}});
    host("print_f64", FuncType{{V::kF64}, {}});
    host("print_i32_f32", FuncType{{V::kI32, V::kF32}, {}});
    host("print_f64_f64", FuncType{{V::kF64, V::kF64}, {}});
    linker_.Define("spectest", "global_i32",
                   Extern::Global(store_.CreateGlobal(GlobalType{V::kI32, false}, Value::I32(666))));
    linker_.Define("spectest", "global_i64",
                   Extern::Global(store_.CreateGlobal(GlobalType{V::kI64, false}, Value::I64(666))));
    linker_.Define("spectest", "global_f32", Extern::Global(store_.CreateGlobal(
                                                 GlobalType{V::kF32, false}, Value::F32(666.6f))));
    linker_.Define("spectest", "global_f64", Extern::Global(store_.CreateGlobal(
                                                 GlobalType{V::kF64, false}, Value::F64(666.6))));
    TableType tt;
    tt.elem = V::kFuncRef;
    tt.limits.min = 10;
    tt.limits.max = 20;
    linker_.Define("spectest", "table", Extern::Table(store_.CreateTable(tt)));
    MemoryType mt;
    mt.limits.min = 1;
    mt.limits.max = 2;
    if (MemInst* mem = store_.CreateMemory(mt)) linker_.Define("spectest", "memory", Extern::Memory(mem));
  }

  // Decodes the module of a command; nullopt + why on failure.
  weft::Result<std::shared_ptr<const Module>, Diag> Load(const json& cmd) {
    std::vector<uint8_t> bytes = ReadFile(dir_ / cmd["filename"].get<std::string>());
    return DecodeModule(bytes);
  }

  Instance* Target(const json& action) {
    if (action.contains("module")) {
      auto it = named_.find(action["module"].get<std::string>());
      return it == named_.end() ? nullptr : it->second;
    }
    return current_;
  }

  static bool ParseValue(const json& v, TypedValue* out) {
    std::string type = v["type"].get<std::string>();
    out->type = ParseType(type);
    if (out->type == ValType::kV128) return false;
    std::string s = v.contains("value") ? v["value"].get<std::string>() : std::string();
    if (out->type == ValType::kExternRef) {
      out->value = s == "null" ? Value::ExternRef(0) : Value::ExternRef(std::stoull(s) + 1);
    } else if (out->type == ValType::kFuncRef) {
      out->value = Value::Ref(nullptr);  // only "null" funcref arguments exist in the suite
    } else {
      out->value = Value{std::stoull(s)};
    }
    return true;
  }

  // Runs an action; on success fills results and returns nullopt. A trap comes back in
  // *trap; other problems (missing export, bad args) in *why with false.
  bool DoAction(const json& action, std::vector<Value>* results, std::vector<ValType>* types,
                std::optional<Trap>* trap, std::string* why) {
    Instance* inst = Target(action);
    if (inst == nullptr) {
      *why = "no instance for action";
      return false;
    }
    std::string field = action["field"].get<std::string>();
    auto ext = inst->GetExport(field);
    if (!ext) {
      *why = "no export \"" + field + "\"";
      return false;
    }
    std::string type = action["type"].get<std::string>();
    if (type == "get") {
      GlobalInst* g = ext->global();
      if (g == nullptr) {
        *why = "export is not a global";
        return false;
      }
      results->assign(1, g->value);
      types->assign(1, g->type.type);
      return true;
    }
    FuncInst* f = ext->func();
    if (f == nullptr) {
      *why = "export is not a function";
      return false;
    }
    std::vector<Value> args;
    for (const auto& a : action["args"]) {
      TypedValue tv;
      if (!ParseValue(a, &tv)) {
        *why = "unsupported argument type";
        return false;
      }
      args.push_back(tv.value);
    }
    if (args.size() != f->type->params.size()) {
      *why = "argument count mismatch";
      return false;
    }
    results->assign(f->type->results.size(), Value{});
    *types = f->type->results;
    watchdog_.Arm(&store_);
    *trap = Call(store_, f, args, *results);
    watchdog_.Disarm();
    store_.ClearInterrupt();
    return true;
  }

  static bool MatchValue(const json& expected, ValType type, Value actual, std::string* why) {
    std::string et = expected["type"].get<std::string>();
    ValType want = ParseType(et);
    if (want != type) {
      *why = "result type " + std::string(ValTypeName(type)) + ", expected " + et;
      return false;
    }
    std::string s = expected.contains("value") ? expected["value"].get<std::string>() : "";
    auto fail = [&](const std::string& got) {
      *why = "got " + got + ", expected " + et + " " + (s.empty() ? "<non-null>" : s);
      return false;
    };
    switch (type) {
      case ValType::kI32:
        if (actual.i32() == static_cast<uint32_t>(std::stoull(s))) return true;
        return fail(std::to_string(actual.i32()));
      case ValType::kI64:
        if (actual.i64() == std::stoull(s)) return true;
        return fail(std::to_string(actual.i64()));
      case ValType::kF32: {
        uint32_t bits = actual.i32();
        bool nan = (bits & 0x7F800000u) == 0x7F800000u && (bits & 0x007FFFFFu) != 0;
        if (s == "nan:canonical") {
          if ((bits & 0x7FFFFFFFu) == 0x7FC00000u) return true;
        } else if (s == "nan:arithmetic") {
          if (nan && (bits & 0x00400000u)) return true;
        } else if (bits == static_cast<uint32_t>(std::stoull(s))) {
          return true;
        }
        return fail("f32 bits " + std::to_string(bits));
      }
      case ValType::kF64: {
        uint64_t bits = actual.i64();
        bool nan = (bits & 0x7FF0000000000000ull) == 0x7FF0000000000000ull &&
                   (bits & 0x000FFFFFFFFFFFFFull) != 0;
        if (s == "nan:canonical") {
          if ((bits & 0x7FFFFFFFFFFFFFFFull) == 0x7FF8000000000000ull) return true;
        } else if (s == "nan:arithmetic") {
          if (nan && (bits & 0x0008000000000000ull)) return true;
        } else if (bits == std::stoull(s)) {
          return true;
        }
        return fail("f64 bits " + std::to_string(bits));
      }
      case ValType::kExternRef:
        if (s.empty()) {
          if (!actual.is_null_ref()) return true;
        } else if (s == "null") {
          if (actual.is_null_ref()) return true;
        } else if (actual.bits == std::stoull(s) + 1) {
          return true;
        }
        return fail(actual.is_null_ref() ? "null" : "externref " + std::to_string(actual.bits - 1));
      case ValType::kFuncRef:
        if (s == "null" ? actual.is_null_ref() : !actual.is_null_ref()) return true;
        return fail(actual.is_null_ref() ? "null" : "a function");
      default:
        *why = "unsupported type";
        return false;
    }
  }

  static bool TrapMatches(const Trap& trap, const std::string& expected) {
    std::string msg = TrapKindMessage(trap.kind);
    return StartsWith(msg, expected) || (!msg.empty() && StartsWith(expected, msg));
  }

  Outcome Execute(const json& cmd, std::string* why) {
    const std::string type = cmd["type"].get<std::string>();
    const bool text_module = cmd.value("module_type", "binary") == "text";

    if (type == "module") {
      if (text_module) return Outcome::kSkipText;
      auto mod = Load(cmd);
      current_ = nullptr;
      if (!mod.ok()) {
        *why = "decode failed: " + mod.error().ToString();
        return Outcome::kFail;
      }
      watchdog_.Arm(&store_);
      auto inst = linker_.Instantiate(store_, *mod);
      watchdog_.Disarm();
      store_.ClearInterrupt();
      if (!inst.ok()) {
        *why = "instantiation failed: " + inst.error().Message();
        return Outcome::kFail;
      }
      current_ = *inst;
      if (cmd.contains("name")) named_[cmd["name"].get<std::string>()] = current_;
      return Outcome::kPass;
    }
    if (type == "register") {
      Instance* inst = current_;
      if (cmd.contains("name")) {
        auto it = named_.find(cmd["name"].get<std::string>());
        inst = it == named_.end() ? nullptr : it->second;
      }
      if (inst == nullptr) {
        *why = "no instance to register";
        return Outcome::kFail;
      }
      linker_.DefineInstance(cmd["as"].get<std::string>(), *inst);
      return Outcome::kPass;
    }
    if (type == "assert_malformed" || type == "assert_invalid") {
      if (text_module) return Outcome::kSkipText;
      auto mod = Load(cmd);
      std::string expected = cmd["text"].get<std::string>();
      if (mod.ok()) {
        *why = "module decoded, expected \"" + expected + "\"";
        return Outcome::kFail;
      }
      if (!StartsWith(mod.error().message, expected)) {
        *why = "got \"" + mod.error().message + "\", expected \"" + expected + "\"";
        return Outcome::kFail;
      }
      return Outcome::kPass;
    }
    if (type == "assert_unlinkable" || type == "assert_uninstantiable" ||
        (type == "assert_trap" && cmd.contains("filename"))) {
      if (text_module) return Outcome::kSkipText;
      std::string expected = cmd["text"].get<std::string>();
      auto mod = Load(cmd);
      if (!mod.ok()) {
        *why = "decode failed: " + mod.error().ToString();
        return Outcome::kFail;
      }
      watchdog_.Arm(&store_);
      auto inst = linker_.Instantiate(store_, *mod);
      watchdog_.Disarm();
      store_.ClearInterrupt();
      if (inst.ok()) {
        *why = "instantiated, expected \"" + expected + "\"";
        return Outcome::kFail;
      }
      const InstantiateError& e = inst.error();
      if (type == "assert_unlinkable") {
        if (e.kind == InstantiateError::Kind::kLink && StartsWith(e.link.message, expected))
          return Outcome::kPass;
      } else if (e.kind == InstantiateError::Kind::kTrap && TrapMatches(e.trap, expected)) {
        return Outcome::kPass;
      }
      *why = "got \"" + e.Message() + "\", expected \"" + expected + "\"";
      return Outcome::kFail;
    }
    if (type == "action" || type == "assert_return" || type == "assert_trap" ||
        type == "assert_exhaustion") {
      std::vector<Value> results;
      std::vector<ValType> types;
      std::optional<Trap> trap;
      if (!DoAction(cmd["action"], &results, &types, &trap, why)) return Outcome::kFail;
      if (type == "action") {
        if (trap) {
          *why = "trapped: " + trap->Message();
          return Outcome::kFail;
        }
        return Outcome::kPass;
      }
      if (type == "assert_trap" || type == "assert_exhaustion") {
        std::string expected = cmd["text"].get<std::string>();
        if (!trap) {
          *why = "returned normally, expected trap \"" + expected + "\"";
          return Outcome::kFail;
        }
        if (!TrapMatches(*trap, expected)) {
          *why = "trapped \"" + trap->Message() + "\", expected \"" + expected + "\"";
          return Outcome::kFail;
        }
        return Outcome::kPass;
      }
      // assert_return
      if (trap) {
        *why = "trapped: " + trap->Message();
        return Outcome::kFail;
      }
      const auto& expected = cmd["expected"];
      if (expected.size() != results.size()) {
        *why = "got " + std::to_string(results.size()) + " results, expected " +
               std::to_string(expected.size());
        return Outcome::kFail;
      }
      for (size_t i = 0; i < results.size(); ++i) {
        if (!MatchValue(expected[i], types[i], results[i], why)) {
          *why = "result " + std::to_string(i) + ": " + *why;
          return Outcome::kFail;
        }
      }
      return Outcome::kPass;
    }
    *why = "unknown command type " + type;
    return Outcome::kFail;
  }

  const Options& opt_;
  std::string file_name_;
  fs::path dir_;
  const std::set<std::string>& known_;
  Store store_;
  Linker linker_;
  Instance* current_ = nullptr;
  std::map<std::string, Instance*> named_;
  int line_ = 0;
  Watchdog watchdog_;
};

std::set<std::string> LoadKnownFailures(const fs::path& p) {
  std::set<std::string> known;
  if (p.empty()) return known;
  std::ifstream f(p);
  std::string line;
  while (std::getline(f, line)) {
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream ss(line);
    std::string entry;
    if (ss >> entry) known.insert(entry);
  }
  return known;
}

int Usage() {
  std::fprintf(stderr,
               "usage: weft_spec [--wast2json PATH] [--work-dir DIR] [--known-failures FILE]\n"
               "                 [--timeout SECONDS] [-v] <file.wast | dir>...\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--wast2json") opt.wast2json = next();
    else if (a == "--work-dir") opt.work_dir = next();
    else if (a == "--known-failures") opt.known_failures = next();
    else if (a == "--timeout") opt.command_timeout_s = std::atof(next().c_str());
    else if (a == "-v") opt.verbose = true;
    else if (!a.empty() && a[0] == '-') return Usage();
    else inputs.push_back(a);
  }
  if (inputs.empty()) return Usage();

  std::vector<fs::path> files;
  for (const auto& in : inputs) {
    if (fs::is_directory(in)) {
      std::vector<fs::path> found;
      for (const auto& e : fs::directory_iterator(in)) {
        std::string name = e.path().filename().string();
        if (e.path().extension() == ".wast" && !StartsWith(name, "simd_")) found.push_back(e.path());
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(in);
    }
  }

  std::set<std::string> known = LoadKnownFailures(opt.known_failures);
  Totals all;
  for (const auto& wast : files) {
    std::string stem = wast.stem().string();
    std::string name = wast.filename().string();
    fs::path dir = opt.work_dir / stem;
    fs::create_directories(dir);
    fs::path json_path = dir / (stem + ".json");
    std::string command = "\"" + opt.wast2json + "\" \"" + wast.string() + "\" -o \"" +
                          json_path.string() + "\" > \"" + (dir / "wast2json.log").string() +
                          "\" 2>&1";
    if (std::system(command.c_str()) != 0) {
      std::printf("%s: wast2json failed (see %s)\n", name.c_str(), (dir / "wast2json.log").c_str());
      ++all.failed;
      continue;
    }
    json doc;
    {
      std::ifstream f(json_path);
      doc = json::parse(f, nullptr, /*allow_exceptions=*/false);
    }
    if (doc.is_discarded() || !doc.contains("commands")) {
      std::printf("%s: cannot parse %s\n", name.c_str(), json_path.c_str());
      ++all.failed;
      continue;
    }
    WastRunner runner(opt, name, dir, known);
    Totals t = runner.Run(doc);
    std::printf("%s: %llu passed, %llu failed, %llu skipped", name.c_str(),
                static_cast<unsigned long long>(t.passed), static_cast<unsigned long long>(t.failed),
                static_cast<unsigned long long>(t.skipped));
    if (t.known) std::printf(" (%llu known failures)", static_cast<unsigned long long>(t.known));
    std::printf("\n");
    std::fflush(stdout);
    all.passed += t.passed;
    all.failed += t.failed;
    all.skipped += t.skipped;
    all.skipped_text += t.skipped_text;
    all.known += t.known;
  }
  std::printf("%llu passed, %llu failed\n", static_cast<unsigned long long>(all.passed),
              static_cast<unsigned long long>(all.failed));
  std::printf("skipped: %llu (%llu text-format modules: weft has no text parser); known failures: %llu\n",
              static_cast<unsigned long long>(all.skipped),
              static_cast<unsigned long long>(all.skipped_text),
              static_cast<unsigned long long>(all.known));
  return all.failed == 0 ? 0 : 1;
}
