// virtual_fs_no_host: a guest run with no host filesystem at all. An in-memory tree
// (VirtualDir) is preopened at `/`; the guest creates a directory and files, lists and
// reads them; afterwards the host inspects the tree the guest left behind.
#include <cstdio>
#include <memory>
#include <string>

#include "example_util.h"
#include "weft/wasi/pipe.h"
#include "weft/wasi/virtual_fs.h"

int main() {
  auto module = example::LoadGuest("demo.wasm");
  if (!module) return 1;

  auto root = weft::wasi::MakeVirtualFs();
  if (!root->AddFile("readme.txt", "put there by the host\n").ok()) return 1;
  weft::wasi::CtxBuilder builder;
  builder.Args({"demo", "vfs"}).InheritStdout().InheritStderr().PreopenDir(root, "/");
  std::fflush(stdout);
  int status = example::RunStart(module, example::BuildOrDie(builder));
  std::printf("exit status: %d\n", status);

  bool ok = status == 0;
  std::string names;
  ok &= root->Readdir(0, [&](const weft::wasi::DirEntry& e) {
              names += " " + e.name;
              return true;
            }).ok();
  std::printf("host: ls / ->%s\n", names.c_str());
  for (const char* path : {"notes/a.txt", "notes/b.txt"}) {
    auto text = root->ReadFile(path);
    std::printf("host: %s -> %s", path, text.ok() ? text->c_str() : "(missing)\n");
    ok &= text.ok() && *text == std::string("note ") + path[6] + " written by the guest\n";
  }
  ok &= names == " . .. readme.txt notes";
  std::printf("%s\n", ok ? "OK" : "FAILED");
  return ok ? 0 : 1;
}
