// shared_handle_two_instances: one open file (an in-memory MemFile) inserted into the
// fd tables of two instances, each with its own Ctx and table. Both write lines through
// their own fd; the file offset is shared (like dup(2)), so the lines interleave instead
// of overwriting each other. Closing the fd in one table leaves the other working.
#include <cstdio>
#include <memory>
#include <string>

#include "example_util.h"
#include "weft/wasi/memfile.h"
#include "weft/wasi/table.h"

namespace {

// One reactor instance of shared.wasm with its own context.
struct Guest {
  std::shared_ptr<weft::wasi::Ctx> ctx;
  weft::wasm::Store store;
  weft::wasm::Instance* instance = nullptr;

  bool Start(std::shared_ptr<const weft::wasm::Module> module, const std::string& tag) {
    weft::wasi::CtxBuilder builder;
    builder.Arg("shared").Env("TAG", tag).InheritStderr();
    ctx = example::BuildOrDie(builder);
    weft::wasm::Linker linker;
    weft::wasi::AddToLinker(linker, store, ctx);
    auto inst = linker.Instantiate(store, module);
    if (!inst.ok()) return false;
    instance = *inst;
    weft::wasm::FuncInst* init = instance->GetFunc("_initialize");
    return init == nullptr || !weft::wasm::Call(store, init, {}, {});
  }
  // put(fd, n): the guest's errno (0 on success), or -1 on a trap.
  int Put(uint32_t fd, int n) {
    weft::wasm::Value args[] = {weft::wasm::Value::I32(fd), weft::wasm::Value::I32(n)};
    auto r = weft::wasm::Invoke(store, instance->GetFunc("put"), args);
    return r.ok() ? static_cast<int>((*r)[0].i32()) : -1;
  }
};

}  // namespace

int main() {
  auto module = example::LoadGuest("shared.wasm");
  if (!module) return 1;
  Guest a, b;
  if (!a.Start(module, "A") || !b.Start(module, "B")) return 1;

  auto file = weft::wasi::MakeMemFile();
  auto fd_a = a.ctx->table().Push(weft::wasi::Entry::For(file));
  auto fd_b = b.ctx->table().Push(weft::wasi::Entry::For(file));
  if (!fd_a.ok() || !fd_b.ok()) return 1;
  std::printf("the file is fd %u in A's table and fd %u in B's table\n", *fd_a, *fd_b);

  bool ok = true;
  for (int n = 1; n <= 2; ++n) {
    ok &= a.Put(*fd_a, n) == 0;
    ok &= b.Put(*fd_b, n) == 0;
  }
  // A closes its fd: A's later writes fail with EBADF, B's still work.
  ok &= a.ctx->table().Remove(*fd_a).ok();
  int a_after = a.Put(*fd_a, 3);
  std::printf("after A closed its fd: A's put -> errno %d (EBADF is %d)\n", a_after,
              static_cast<int>(weft::wasi::Errno::kBadf));
  ok &= a_after == static_cast<int>(weft::wasi::Errno::kBadf);
  ok &= b.Put(*fd_b, 3) == 0;

  std::string contents = file->Contents();
  std::printf("final contents:\n%s", contents.c_str());
  ok &= contents == "A 1\nB 1\nA 2\nB 2\nB 3\n";
  std::printf("%s\n", ok ? "OK" : "FAILED");
  return ok ? 0 : 1;
}
