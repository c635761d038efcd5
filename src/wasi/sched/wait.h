// Blocking waits that the context's Interrupt() can cut short.
#pragma once

#include "weft/wasi/handle.h"
#include "weft/wasi/preview1.h"

namespace weft::wasi::sched {

// Before a blocking read of a stream (pipe, tty, socket): waits until `file` is
// readable or the context is interrupted (then a kInterrupted trap). Regular files,
// handles without a poll source and non-blocking fds return at once.
Result<void> WaitReadable(Call& call, File& file);

// The trap a guest stopped by Ctx::Interrupt() gets: "<function>: interrupted".
wasm::Trap InterruptedTrap(const Call& call);

}  // namespace weft::wasi::sched
