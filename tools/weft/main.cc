// weft: the command line. `weft run [OPTIONS] MODULE [ARGS...]`, or `weft MODULE [ARGS...]`.
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "cli.h"

namespace {

void PrintUsage(FILE* out) {
  std::fprintf(out,
               "Usage: weft run [OPTIONS] MODULE.wasm [ARGS...]\n"
               "       weft MODULE.wasm [ARGS...]\n"
               "       weft pipe [OPTIONS] A.wasm [ARGS...] '|' [OPTIONS] B.wasm [ARGS...] ...\n"
               "           run WASI commands as a pipeline in one process: A's stdout feeds\n"
               "           B's stdin (quote the '|'); options apply to the stage they precede;\n"
               "           the exit status is the last stage's\n"
               "\n"
               "Options:\n"
               "  --invoke NAME            call the exported function NAME with ARGS\n"
               "                           (parsed by its parameter types) and print its results\n"
               "  --dir HOST[::GUEST][:ro] preopen a host directory (read-only with :ro)\n"
               "  --env NAME=VAL | NAME    set (or inherit) a guest environment variable\n"
               "  --tcplisten HOST:PORT    preopen a listening TCP socket\n"
               "  --trace-wasi             print every WASI call to stderr\n"
               "  -C cache=y|n             keep translated code between runs (default y), in\n"
               "                           $WEFT_CACHE_DIR, else $XDG_CACHE_HOME/weft, else\n"
               "                           ~/.cache/weft\n"
               "  --                       end of options\n"
               "\n"
               "weft --version (or -V) prints the version.\n");
}

}  // namespace

int main(int argc, char** argv) {
  // A guest writing to a pipe whose reader is gone gets EPIPE from fd_write, as under
  // wasmtime; the default SIGPIPE action would kill weft with the guest's output half done.
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    PrintUsage(stderr);
    return 1;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    PrintUsage(stdout);
    return 0;
  }
  if (args[0] == "--version" || args[0] == "-V") {
    std::printf("weft %s\n", WEFT_VERSION);
    return 0;
  }
  if (args[0] == "pipe") {
    args.erase(args.begin());
    return weft::cli::RunPipeline(args);
  }
  if (args[0] == "run") args.erase(args.begin());
  std::string error;
  std::optional<weft::cli::RunOptions> options = weft::cli::ParseRunArgs(args, &error);
  if (!options) {
    std::fprintf(stderr, "Error: %s\n\n", error.c_str());
    PrintUsage(stderr);
    return 1;
  }
  // weft run ends the process as soon as the guest is done (cli.h, ExitNow).
  options->exit_when_done = true;
  return weft::cli::Run(*options);
}
