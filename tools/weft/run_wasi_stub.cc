// Placeholder until the WASI runner (tools/weft/run_wasi.cc) lands; delete it then.
#include <cstdio>

#include "cli.h"

namespace weft::cli {

int RunWasi(const RunOptions& options, std::shared_ptr<const weft::wasm::Module> module) {
  std::fprintf(stderr, "Error: `%s` imports wasi_snapshot_preview1: WASI not available yet\n",
               options.module_path.c_str());
  return 1;
}

}  // namespace weft::cli
