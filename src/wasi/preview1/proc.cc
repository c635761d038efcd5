// proc_* and sched_yield bodies.
#include <sched.h>

#include <string>

#include "wasi/preview1/bodies.h"

namespace weft::wasi::preview1 {

// Unwinds the guest with an exit trap from any depth. Like wasmtime, a status outside
// [0, 126) is refused with a trap (126+ are reserved by shells for signals and
// "command not found").
Result<void> proc_exit(Call& call, u32 code) {
  if (code >= 126) {
    return Err(call.MakeTrap("exit with invalid exit status outside of [0..126): " +
                             std::to_string(code)));
  }
  call.ctx().set_exit_code(static_cast<int32_t>(code));
  return Err(wasm::Trap::Exit(static_cast<int32_t>(code)));
}

// Signals are not supported: ENOTSUP, as wasmtime answers.
Result<void> proc_raise(Call& call, u32 sig) { return Err(Errno::kNotsup); }

Result<void> sched_yield(Call& call) {
  ::sched_yield();
  return {};
}

}  // namespace weft::wasi::preview1
