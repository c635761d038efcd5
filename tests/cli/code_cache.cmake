# weft run keeps translated code between runs (weft/wasm/code_cache.h). A second run of
# the same module uses the first run's entry and behaves identically: the same trap
# report, backtrace included, and the same results; -C cache=n reads and writes nothing.
# This file is included before the others that find bash (alphabetical order), so it
# finds bash itself: on a fresh configure the test was silently left out.
find_program(WEFT_BASH bash)
if(WEFT_BASH)
  add_test(NAME cli.code_cache_second_run_behaves_the_same
    COMMAND ${WEFT_BASH} -c "set -u; rm -rf \"$2\"; mkdir -p \"$2\"; export WEFT_CACHE_DIR=\"$2/cache\"
\"$0\" run \"$1\" 2> \"$2/err1\"; s1=$?
n=$(find \"$2/cache\" -name '*.wcc' | wc -l)
\"$0\" run \"$1\" 2> \"$2/err2\"; s2=$?
echo \"status $s1 then $s2, $n cache entries after the first run\"
test $s1 = 134 && test $s2 = 134 && test $n = 1 || exit 1
cmp \"$2/err1\" \"$2/err2\" || { cat \"$2/err1\" \"$2/err2\"; exit 1; }
grep -q 'cached!divide' \"$2/err2\" && grep -q 'integer divide by zero' \"$2/err2\" || { cat \"$2/err2\"; exit 1; }
r=$(\"$0\" run --invoke run \"$1\" 4); test \"$r\" = 25 || { echo \"run(4) printed $r\"; exit 1; }
WEFT_CACHE_DIR=\"$2/off\" \"$0\" run -C cache=n --invoke run \"$1\" 5 > \"$2/out\"
test \"$(cat \"$2/out\")\" = 20 && test ! -e \"$2/off\" || { echo 'cache=n wrote an entry'; exit 1; }"
            $<TARGET_FILE:weft_cli> ${WEFT_CLI_WASM_DIR}/cached_trap.wasm
            ${CMAKE_CURRENT_BINARY_DIR}/code_cache)
endif()
weft_cli_test(codegen_option_unknown ARGS run -C opt-level=2 x.wasm EXIT 1
  STDERR_CONTAINS "unsupported codegen option opt-level=2")
