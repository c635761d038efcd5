// capture_stdio: a guest's stdin fed from a string (ReadPipe), its stdout and stderr
// captured into memory (WritePipe); the host prints what was captured.
#include <cstdio>
#include <memory>
#include <string>

#include "example_util.h"
#include "weft/wasi/pipe.h"

int main() {
  auto module = example::LoadGuest("demo.wasm");
  if (!module) return 1;

  auto in = std::make_shared<weft::wasi::ReadPipe>(std::string_view("captured stdio\nsecond line\n"));
  auto out = std::make_shared<weft::wasi::WritePipe>();
  auto err = std::make_shared<weft::wasi::WritePipe>();
  weft::wasi::CtxBuilder builder;
  builder.Arg("demo").Arg("upper").Stdin(in).Stdout(out).Stderr(err);
  int status = example::RunStart(module, example::BuildOrDie(builder));

  std::printf("exit status: %d\n", status);
  std::printf("captured stdout (%zu bytes): %s", out->Contents().size(), out->Contents().c_str());
  std::printf("captured stderr (%zu bytes): %s", err->Contents().size(), err->Contents().c_str());
  bool ok = status == 0 && out->Contents() == "CAPTURED STDIO\nSECOND LINE\n" &&
            err->Contents() == "upper: starting\nupper: done\n" && in->remaining() == 0;
  std::printf("%s\n", ok ? "OK" : "FAILED");
  return ok ? 0 : 1;
}
