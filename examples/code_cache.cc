// code_cache: the library side of `weft run`'s code cache (on by default; -C cache=n
// turns it off). The first run translates the functions it calls and Save writes them
// to the cache; decoding the same bytes again skips validating the function bodies, and
// those functions start from the saved code instead of being translated again.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "example_util.h"
#include "weft/wasi/pipe.h"
#include "weft/wasm/code_cache.h"

int main() {
  std::ifstream in(example::GuestPath("hello.wasm"), std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.empty()) {
    std::fprintf(stderr, "cannot read hello.wasm\n");
    return 1;
  }
  char dir[] = "/tmp/weft_example_cache_XXXXXX";
  if (mkdtemp(dir) == nullptr) return 1;
  // weft run uses weft::wasm::CodeCache::DefaultDir() ($WEFT_CACHE_DIR, else
  // $XDG_CACHE_HOME/weft, else ~/.cache/weft); this example keeps its own.
  weft::wasm::CodeCache cache(dir);
  // Past this many bytes of entries, Save deletes the least recently used (the
  // default is CodeCache::kDefaultSizeLimit, 512 MiB).
  cache.set_size_limit(64 << 20);

  std::string outputs[2];
  bool from_cache[2] = {false, false};
  for (int run = 0; run < 2; ++run) {
    auto module = cache.Decode(std::vector<uint8_t>(bytes));
    if (!module.ok()) {
      std::fprintf(stderr, "decode: %s\n", module.error().ToString().c_str());
      return 1;
    }
    auto out = std::make_shared<weft::wasi::WritePipe>();
    weft::wasi::CtxBuilder builder;
    // No --dir here: the guest's complaint about /data goes to `err`, unread.
    auto err = std::make_shared<weft::wasi::WritePipe>();
    builder.Args({"hello.wasm"}).Stdout(out).Stderr(err);
    weft::wasm::Store store;
    weft::wasm::Linker linker;
    weft::wasi::AddToLinker(linker, store, example::BuildOrDie(builder));
    auto inst = linker.Instantiate(store, *module);
    if (!inst.ok()) return 1;
    from_cache[run] = (*inst)->translated != nullptr;
    (void)weft::wasm::Call(store, (*inst)->GetFunc("_start"), {}, {});
    cache.Save(**inst);  // what this run translated, for the next one
    outputs[run] = out->Contents();
    std::printf("run %d: started from cached code: %s; the guest printed %zu bytes\n", run + 1,
                from_cache[run] ? "yes" : "no", outputs[run].size());
  }
  std::filesystem::remove_all(dir);
  bool ok = !from_cache[0] && from_cache[1] && outputs[0] == outputs[1] &&
            outputs[0].rfind("Hello from a WASI guest running on weft!\n", 0) == 0;
  std::printf("%s\n", ok ? "OK" : "FAILED");
  return ok ? 0 : 1;
}
