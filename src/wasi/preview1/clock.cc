// clock_* bodies. All four clocks are real (see HostClock in ctx.cc); an unknown clock
// id is EINVAL (an invalid enum value).
#include "wasi/host_clock.h"
#include "wasi/preview1/bodies.h"

namespace weft::wasi::preview1 {

namespace {
Result<Clockid> CheckClock(u32 id) {
  if (id > static_cast<u32>(Clockid::kThreadCputime)) return Err(Errno::kInval);
  return static_cast<Clockid>(id);
}
}  // namespace

Result<void> clock_res_get(Call& call, u32 id, u32 res_out) {
  WEFT_TRY_ASSIGN(Clockid clock, CheckClock(id));
  WEFT_TRY(call.Bytes(res_out, 8, 8));
  WEFT_TRY_ASSIGN(Timestamp res, call.ctx().clocks().Resolution(clock));
  WEFT_TRY(call.StoreU64(res_out, res));
  return {};
}

Result<void> clock_time_get(Call& call, u32 id, u64 precision, u32 time_out) {
  // The hot path: one vDSO clock_gettime, no virtual call. Anything unusual (an
  // overridden Clocks, a bad id or pointer, a host error) takes the general path.
  if (FastClockTimeGet(call.ctx().host_clocks(), call.At(0), call.memory_size(), id, time_out)) {
    return {};
  }
  WEFT_TRY_ASSIGN(Clockid clock, CheckClock(id));
  WEFT_TRY(call.Bytes(time_out, 8, 8));
  WEFT_TRY_ASSIGN(Timestamp now, call.ctx().clocks().Now(clock));
  WEFT_TRY(call.StoreU64(time_out, now));
  return {};
}

}  // namespace weft::wasi::preview1
