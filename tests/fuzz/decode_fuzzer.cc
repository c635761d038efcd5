// libFuzzer target: decode + validate + instantiate (permissive imports, no unbounded
// execution). Built with -fsanitize=fuzzer when the compiler has it (clang); otherwise
// standalone_main.cc provides a main() that runs the inputs named on the command line.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  weft::fuzz::DecodeAndMaybeInstantiate({data, size}, /*instantiate=*/true);
  return 0;
}
