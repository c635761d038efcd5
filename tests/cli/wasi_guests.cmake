# WASI CLI cases (guests helper): `weft` run on the C guest programs of tests/wasi (built
# into ${CMAKE_BINARY_DIR}/tests/wasi by tests/wasi/CMakeLists.txt), checked the way a
# user sees them: exit status, exact stdout, stderr text. The fuller WASI checks, which
# need a prepared directory per test, are the wasi.* tests.
if(TARGET wasi_guests)
  set(G ${CMAKE_BINARY_DIR}/tests/wasi)
  # The guest's exit status is weft's: main's return value, exit(), proc_exit from deep
  # in the call stack; output written before the exit is all there.
  weft_cli_test(wasi_main_return_code ARGS run ${G}/proc.wasm return EXIT 7 STDOUT "returning 7\\n")
  weft_cli_test(wasi_shorthand_without_run ARGS ${G}/proc.wasm return EXIT 7 STDOUT "returning 7\\n")
  weft_cli_test(wasi_proc_exit_nested ARGS run ${G}/proc.wasm exit_nested EXIT 42
    STDOUT "before exit\\n" STDERR_CONTAINS "on stderr")
  weft_cli_test(wasi_exit_flushes_libc_buffer ARGS run ${G}/proc.wasm exit_libc EXIT 3
    STDOUT "buffered, no newline")
  weft_cli_test(wasi_proc_exit_zero ARGS run ${G}/proc.wasm exit_zero STDOUT "exiting 0\\n")
  # The module file need not be a regular file (tools/weft/read_module.cc): /dev/stdin
  # redirected from the file, and a pipe, which has no size and is read in chunks
  # (proc.wasm is ~170 KB: the 64 KiB buffer doubles twice).
  weft_cli_test(wasi_module_from_stdin_file ARGS run /dev/stdin return STDIN_FILE ${G}/proc.wasm
    EXIT 7 STDOUT "returning 7\\n")
  add_test(NAME cli.wasi_module_from_pipe
    COMMAND sh -c "cat '${G}/proc.wasm' | '$<TARGET_FILE:weft_cli>' run /dev/stdin return; echo \"exit $?\"")
  set_tests_properties(cli.wasi_module_from_pipe PROPERTIES
    PASS_REGULAR_EXPRESSION "^returning 7\nexit 7\n$")
  # A trap after a write: the bytes are on stdout, the trap on stderr, exit 134.
  weft_cli_test(wasi_write_then_trap ARGS run ${G}/trap.wasm unreachable EXIT 134
    STDOUT "before\\nwritten before the trap\\nno newline yet"
    STDERR_CONTAINS "Error: failed to run main module" "unreachable" "wasm backtrace:")
  # A wild iovec: the trap message names fd_write (" fd_write": not the guest frame
  # `__wasi_fd_write` of the backtrace) and nothing is written by that call.
  weft_cli_test(wasi_wild_pointer_trap ARGS run ${G}/trap.wasm wild_iovec_buffer EXIT 134
    STDOUT "before\\n" STDERR_CONTAINS " fd_write")
  # Arguments after the module go to the guest verbatim, options included.
  weft_cli_test(wasi_args_after_module ARGS run --env A=1 -- ${G}/args_env.wasm --env B=2 x
    STDOUT "ok sizes consistent\\nargc=4\\nargv[0]=${G}/args_env.wasm\\nargv[1]=--env\\nargv[2]=B=2\\nargv[3]=x\\nenvc=1\\nenv[0]=A=1\\n")
  # A reactor: _initialize, then the export; the result printed as wasmtime does.
  weft_cli_test(wasi_reactor_invoke ARGS run --invoke add ${G}/cli_reactor.wasm 40 2 STDOUT "42\\n")
endif()
