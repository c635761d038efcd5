// Test helper: text module -> decoded Module, through wabt's wat2wasm (a test dependency).
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "weft/wasm/module.h"
#include "weft/wasm/runtime.h"

namespace weft::wasm::testing {

inline std::vector<uint8_t> WatToWasm(const std::string& wat) {
  char dir[] = "/tmp/weft_wat_XXXXXX";
  if (!mkdtemp(dir)) return {};
  std::string in = std::string(dir) + "/m.wat", out = std::string(dir) + "/m.wasm";
  { std::ofstream(in) << wat; }
  std::string cmd = "wat2wasm --debug-names " + in + " -o " + out;
  std::vector<uint8_t> bytes;
  if (std::system(cmd.c_str()) == 0) {
    std::ifstream f(out, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  std::remove(in.c_str());
  std::remove(out.c_str());
  rmdir(dir);
  return bytes;
}

inline std::shared_ptr<const Module> ParseWat(const std::string& wat) {
  std::vector<uint8_t> bytes = WatToWasm(wat);
  EXPECT_FALSE(bytes.empty()) << "wat2wasm failed";
  auto m = DecodeModule(bytes);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().ToString());
  return m.ok() ? *m : nullptr;
}

// Instantiates with `linker` (no imports by default); fails the test on error.
inline Instance* Instantiate(Store& store, const std::string& wat, Linker linker = {},
                             std::string name = {}) {
  auto m = ParseWat(wat);
  if (!m) return nullptr;
  auto inst = linker.Instantiate(store, m, std::move(name));
  EXPECT_TRUE(inst.ok()) << (inst.ok() ? "" : inst.error().Message());
  return inst.ok() ? *inst : nullptr;
}

}  // namespace weft::wasm::testing
