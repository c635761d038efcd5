// host_memfd_module: a host module `weft_memfd` with one function,
//   create(name_ptr: i32, name_len: i32, fd_out: i32) -> errno: i32,
// defined with Linker::DefineHostFunc. It reads the name from the CALLER's memory,
// creates an anonymous in-memory file (MemFile) and pushes it into the caller's fd
// table, writing the new fd to *fd_out. The guest then writes, seeks and reads it.
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "example_util.h"
#include "weft/wasi/memfile.h"
#include "weft/wasi/table.h"

namespace {

using weft::wasm::Value;
using weft::wasm::ValType;

struct MemfdHost {
  std::shared_ptr<weft::wasi::Ctx> ctx;  // whose table receives the new fds
  std::mutex mu;
  std::vector<std::pair<std::string, std::shared_ptr<weft::wasi::MemFile>>> created;
};

void DefineMemfd(weft::wasm::Linker& linker, weft::wasm::Store& store, MemfdHost* host) {
  weft::wasm::FuncType type;
  type.params = {ValType::kI32, ValType::kI32, ValType::kI32};
  type.results = {ValType::kI32};
  linker.DefineHostFunc(
      store, "weft_memfd", "create", type,
      [](weft::wasm::Caller& caller, const Value* args, Value* results)
          -> std::optional<weft::wasm::Trap> {
        auto* host = static_cast<MemfdHost*>(caller.user_data);
        auto errno_result = [&](weft::wasi::Errno e) {
          results[0] = Value::I32(static_cast<uint32_t>(e));
          return std::nullopt;
        };
        weft::wasm::MemInst* mem = caller.memory();
        uint32_t name_ptr = args[0].i32(), name_len = args[1].i32(), fd_out = args[2].i32();
        if (mem == nullptr || !mem->InBounds(name_ptr, name_len) || !mem->InBounds(fd_out, 4)) {
          return errno_result(weft::wasi::Errno::kFault);
        }
        std::string name(reinterpret_cast<const char*>(mem->data + name_ptr), name_len);
        auto file = weft::wasi::MakeMemFile();
        auto fd = host->ctx->table().Push(weft::wasi::Entry::For(file));
        if (!fd.ok()) return errno_result(fd.error());
        uint32_t fd_value = *fd;
        std::memcpy(mem->data + fd_out, &fd_value, 4);  // wasm is little-endian, as x86
        std::lock_guard<std::mutex> lock(host->mu);
        host->created.emplace_back(name, file);
        return errno_result(weft::wasi::Errno::kSuccess);
      },
      host);
}

}  // namespace

int main() {
  auto module = example::LoadGuest("memfd.wasm");
  if (!module) return 1;
  weft::wasi::CtxBuilder builder;
  builder.Arg("memfd").InheritStdout().InheritStderr();
  MemfdHost host;
  host.ctx = example::BuildOrDie(builder);
  std::fflush(stdout);
  int status = example::RunStart(module, host.ctx, [&](weft::wasm::Linker& linker,
                                                       weft::wasm::Store& store) {
    DefineMemfd(linker, store, &host);
  });
  std::printf("exit status: %d\n", status);
  bool ok = status == 0 && host.created.size() == 1;
  for (const auto& [name, file] : host.created) {
    std::printf("host: memfd \"%s\" holds \"%s\"\n", name.c_str(), file->Contents().c_str());
    ok = ok && name == "scratch" && file->Contents() == "kept in host memory";
  }
  std::printf("%s\n", ok ? "OK" : "FAILED");
  return ok ? 0 : 1;
}
