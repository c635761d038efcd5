// embed_run_wasi: the library equivalent of
//   weft run --dir examples/guests::/data --env WHO=embedder hello.wasm one two
// Every capability of the CLI is a CtxBuilder call (--dir: PreopenHostDir, --env:
// Env/InheritEnv, --tcplisten: PreopenTcpListeners in net.h, --trace-wasi: Trace or
// TraceToStderr), then link, instantiate and call `_start`.
#include <cstdio>
#include <memory>
#include <string>

#include "example_util.h"
#include "weft/wasi/pipe.h"

int main() {
#if WEFT_HOST_FS
  auto module = example::LoadGuest("hello.wasm");
  if (!module) return 1;
  auto out = std::make_shared<weft::wasi::WritePipe>();
  int trace_lines = 0;
  weft::wasi::CtxBuilder builder;
  builder.Args({"hello.wasm", "one", "two"})        // argv[0] is the module, as typed
      .Env("WHO", "embedder")                          // --env WHO=embedder
      .PreopenHostDir(WEFT_EXAMPLE_SOURCE_GUESTS, "/data", /*read_only=*/true)  // --dir X::/data:ro
      .Stdout(out)                                     // captured here to check it;
      .InheritStderr()                                 // InheritStdio() as the CLI does
      .Trace([&](std::string_view) { ++trace_lines; });  // --trace-wasi, counted
  int status = example::RunStart(module, example::BuildOrDie(builder));
  std::printf("exit status: %d, %d WASI calls traced\nguest stdout:\n%s", status, trace_lines,
              out->Contents().c_str());
  std::string want =
      "Hello from a WASI guest running on weft!\nargv[0] = hello.wasm\nargv[1] = one\n"
      "argv[2] = two\nWHO = embedder\n";
  bool ok = status == 0 && out->Contents().rfind(want, 0) == 0 &&
            out->Contents().find("greeting.txt: ") != std::string::npos && trace_lines > 0;
  std::printf("%s\n", ok ? "OK" : "FAILED");
  return ok ? 0 : 1;
#else
  std::printf("built without the host filesystem (WEFT_HOST_FS=OFF): nothing to show\n");
  return 0;
#endif
}
