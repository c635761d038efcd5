// Builds guest modules for the WASI unit tests with a tool on PATH (wat2wasm, clang-19):
// the source goes to a fresh temp dir, the tool writes the module next to it, and the
// dir is removed again.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "weft/wasm/module.h"

namespace weft::wasi::testing {

// Writes `source` to `src_name` in a fresh temp dir, runs the shell command that
// `command(src_path, out_path)` returns, and returns the bytes it wrote to `out_name`
// there: empty when the command fails or writes nothing.
inline std::vector<uint8_t> BuildInTempDir(
    const std::string& source, const std::string& src_name, const std::string& out_name,
    const std::function<std::string(const std::string& src, const std::string& out)>& command) {
  char dir[] = "/tmp/weft_guest_XXXXXX";
  if (mkdtemp(dir) == nullptr) return {};
  std::string src = std::string(dir) + "/" + src_name;
  std::string out = std::string(dir) + "/" + out_name;
  std::ofstream(src) << source;
  int rc = system(command(src, out).c_str());
  std::ifstream in(out, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(src.c_str());
  std::remove(out.c_str());
  rmdir(dir);
  if (rc != 0) return {};
  return bytes;
}

// The module that wat2wasm makes of `wat`, decoded; nullptr when either step fails.
inline std::shared_ptr<const wasm::Module> CompileWat(const std::string& wat) {
  std::vector<uint8_t> bytes = BuildInTempDir(
      wat, "m.wat", "m.wasm",
      [](const std::string& src, const std::string& out) { return "wat2wasm " + src + " -o " + out; });
  if (bytes.empty()) return nullptr;
  auto m = wasm::DecodeModule(bytes);
  return m.ok() ? *m : nullptr;
}

}  // namespace weft::wasi::testing
