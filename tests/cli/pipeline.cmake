# `weft pipe`: several WASI commands in one process joined like a shell pipeline
# (tools/weft/pipeline.cc). The stages are tests/cli/pipeline_guests/filter.c.
include(${PROJECT_SOURCE_DIR}/cmake/wasm_guest.cmake)
if(WEFT_WASI_CC)
  set(P ${CMAKE_CURRENT_BINARY_DIR}/pipeline_filter.wasm)
  weft_add_wasm_guest(pipeline_filter_guest ${CMAKE_CURRENT_SOURCE_DIR}/pipeline_guests/filter.c ${P})
  set(IN ${CMAKE_CURRENT_SOURCE_DIR}/pipeline_input.txt)
  # The host's stdin into the first stage, the last stage's stdout to the host.
  weft_cli_test(pipeline_cat_upper ARGS pipe ${P} cat | ${P} upper STDIN_FILE ${IN}
    STDOUT "ONE\\nTWO\\nTHREE\\n")
  # Three stages; each stage's exit closes its pipe so the next one sees EOF.
  weft_cli_test(pipeline_three_stages ARGS pipe ${P} lines 500 | ${P} upper | ${P} wcl
    STDOUT "500\\n")
  # More than the 64 KiB pipe buffer moves through (backpressure, no deadlock).
  weft_cli_test(pipeline_large ARGS pipe ${P} lines 20000 | ${P} cat | ${P} wcl
    STDOUT "20000\\n")
  # Exit status is the last stage's, as a shell without pipefail.
  weft_cli_test(pipeline_status_of_last ARGS pipe ${P} exit 5 | ${P} exit 7 STDIN_FILE ${IN}
    EXIT 7)
  weft_cli_test(pipeline_first_fails_last_ok ARGS pipe ${P} exit 5 | ${P} wcl STDIN_FILE ${IN}
    STDOUT "0\\n")
  # A stage that traps: its trap is reported on stderr, the next stage reads what it
  # wrote and then EOF.
  weft_cli_test(pipeline_trap_gives_eof ARGS pipe ${P} trap | ${P} upper
    STDOUT "PARTIAL\\n" STDERR_CONTAINS "about to trap" "wasm trap")
  weft_cli_test(pipeline_trap_last ARGS pipe ${P} lines 2 | ${P} trap EXIT 134
    STDOUT "partial\\n" STDERR_CONTAINS "unreachable")
  weft_cli_test(pipeline_bad_stage ARGS pipe ${P} cat | EXIT 1 STDERR_CONTAINS "stage 2 is empty")
  weft_cli_test(pipeline_missing_module ARGS pipe ${P} cat | /nonexistent.wasm EXIT 1
    STDERR_CONTAINS "/nonexistent.wasm")
endif()
# A stage without `_start` (a library module, no WASI) is instantiated and ends at once,
# as under `weft run` (run_module.cc): the next stage reads end of file.
if(WEFT_WASI_CC)
  weft_cli_test(pipeline_library_stage ARGS pipe ${WEFT_CLI_WASM_DIR}/library.wasm | ${P} wcl
    STDOUT "0\\n")
  weft_cli_test(pipeline_library_stage_last ARGS pipe ${P} lines 3 | ${WEFT_CLI_WASM_DIR}/library.wasm
    EXIT 0 STDOUT "")
endif()
