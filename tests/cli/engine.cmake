# Engine-only CLI cases (execution helper): --invoke, traps, load/compile/link errors.
set(W ${WEFT_CLI_WASM_DIR})
weft_cli_test(invoke_i32 ARGS run --invoke add ${W}/invoke.wasm 40 2 STDOUT "42\\n")
weft_cli_test(invoke_i32_negative ARGS --invoke add ${W}/invoke.wasm -5 -7 STDOUT "-12\\n")
weft_cli_test(invoke_i32_wraps ARGS --invoke add ${W}/invoke.wasm 2147483647 1 STDOUT "-2147483648\\n")
weft_cli_test(invoke_i64 ARGS --invoke add64 ${W}/invoke.wasm 9000000000000000000 -1 STDOUT "8999999999999999999\\n")
weft_cli_test(invoke_multi_value_floats ARGS --invoke swap ${W}/invoke.wasm 1.5 -2.25 STDOUT "-2.25\\n1.5\\n")
weft_cli_test(invoke_no_results ARGS --invoke=nothing ${W}/invoke.wasm STDOUT "")
weft_cli_test(invoke_bad_arg ARGS --invoke add ${W}/invoke.wasm 1 x EXIT 1
  STDERR_CONTAINS "invalid argument 1 for `add`" "not a valid i32")
weft_cli_test(invoke_arg_count ARGS --invoke add ${W}/invoke.wasm 1 EXIT 1
  STDERR_CONTAINS "takes 2 argument(s), 1 given")
weft_cli_test(invoke_missing_export ARGS --invoke nope ${W}/invoke.wasm EXIT 1
  STDERR_CONTAINS "no exported function `nope`")
weft_cli_test(trap_divide_by_zero ARGS --invoke outer ${W}/invoke.wasm 0 EXIT 134 STDOUT ""
  STDERR_CONTAINS "Error: failed to run main module `${W}/invoke.wasm`"
                  "failed to invoke `outer`"
                  "wasm backtrace:"
                  "0:   0xa5 - calc!div\n"     # the i32.div_s (wasm-objdump -d)
                  "1:   0xae - calc!outer\n"   # the call
                  "wasm trap: integer divide by zero")
weft_cli_test(trap_unreachable ARGS --invoke boom ${W}/invoke.wasm EXIT 134
  STDERR_CONTAINS "calc!boom" "wasm trap: unreachable")
weft_cli_test(trap_stack_exhausted ARGS --invoke recurse ${W}/invoke.wasm 0 EXIT 134
  STDERR_CONTAINS "calc!recurse" "wasm trap: call stack exhausted")
weft_cli_test(trap_out_of_bounds ARGS --invoke oob ${W}/invoke.wasm EXIT 134
  STDERR_CONTAINS "calc!oob" "wasm trap: out of bounds memory access")
weft_cli_test(trap_in_start ARGS ${W}/start_trap.wasm EXIT 134
  STDERR_CONTAINS "starter!init" "wasm trap: unreachable")
weft_cli_test(missing_file ARGS run ${W}/does_not_exist.wasm EXIT 1
  STDERR_CONTAINS "Error: failed to read `${W}/does_not_exist.wasm`: No such file or directory")
weft_cli_test(malformed_module ARGS run ${CMAKE_CURRENT_SOURCE_DIR}/engine.cmake EXIT 1
  STDERR_CONTAINS "Error: failed to compile" "offset 0x0: magic header not detected")
weft_cli_test(unknown_import ARGS run ${W}/unknown_import.wasm EXIT 1
  STDERR_CONTAINS "unknown import: `env::missing_fn` has not been defined")
# WASI's functions are made on demand (Linker::DefineHostModule); a name or a type it does
# not have is still a link error.
weft_cli_test(unknown_wasi_import ARGS run ${W}/unknown_wasi_import.wasm EXIT 1
  STDERR_CONTAINS "unknown import: `wasi_snapshot_preview1::fd_writ` has not been defined")
weft_cli_test(wasi_import_wrong_type ARGS run ${W}/wasi_import_wrong_type.wasm EXIT 1
  STDERR_CONTAINS "incompatible import type for `wasi_snapshot_preview1::fd_write`")
weft_cli_test(no_module ARGS run EXIT 1 STDERR_CONTAINS "no module given")
weft_cli_test(unknown_option ARGS run --bogus x.wasm EXIT 1 STDERR_CONTAINS "unknown option --bogus")
# Floats print as the shortest round-trip decimal without an exponent (Rust's Display).
weft_cli_test(invoke_float_format ARGS --invoke swap ${W}/invoke.wasm 1e30 0.1
  STDOUT "0.1\\n1000000000000000000000000000000\\n")

# As `wasmtime --version`: the name and the project's version, nothing else.
weft_cli_test(version ARGS --version STDOUT "weft ${PROJECT_VERSION}\\n")
weft_cli_test(version_short ARGS -V STDOUT "weft ${PROJECT_VERSION}\\n")
# Without --invoke, a `_start` that is not [] -> [] is called like an --invoke'd function
# (run_module.cc, RunGuest): arguments parsed from the command line, results printed.
weft_cli_test(plain_start_with_params ARGS run ${W}/plain_start.wasm 40 2 STDOUT "42\\n")
weft_cli_test(plain_start_arg_count ARGS run ${W}/plain_start.wasm 40 EXIT 1 STDOUT ""
  STDERR_CONTAINS "`_start` takes 2 argument(s), 1 given")
# --invoke of a reactor's export runs `_initialize` first.
weft_cli_test(plain_invoke_initializes ARGS run --invoke _start ${W}/plain_start.wasm 40 2
  STDOUT "1042\\n")
# A library module: instantiating it is the whole run.
weft_cli_test(plain_library ARGS run ${W}/library.wasm EXIT 0 STDOUT "")
weft_cli_test(plain_library_invoke ARGS run --invoke peek ${W}/library.wasm STDOUT "7\\n")
