# weft run ends the process without tearing the store down (tools/weft/cli.h, ExitNow).
# These check that nothing the guest or weft wrote is lost on the way out: guest output
# to a pipe and to a file, a file the guest left open, results printed for --invoke into
# a pipe (C stdio is fully buffered there and must be flushed), and the exit status.
find_program(WEFT_BASH bash)
if(WEFT_BASH)
  set(m ${WEFT_CLI_WASM_DIR}/exit_keeps_output.wasm)
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/fast_exit)
  # $0 weft, $1 module, $2 scratch directory
  set(prologue "set -u; rm -rf \"$2\"; mkdir -p \"$2\"; line='0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.'")
  set(check_file "test \"$(cat \"$2/kept.txt\")\" = \"$(printf '%s\\n%s\\n%s' \"$line\" \"$line\" \"$line\")\" || { echo 'kept.txt:'; od -c \"$2/kept.txt\" | tail -3; exit 1; }")
  # The first three preopen a scratch directory (--dir): not in a build without the host
  # filesystem (-DWEFT_HOST_FS=OFF).
  if(WEFT_HOST_FS)
  add_test(NAME cli.fast_exit_output_to_pipe
    COMMAND ${WEFT_BASH} -c "${prologue}
\"$0\" run --dir \"$2::/\" \"$1\" | wc -c > \"$2.count\"; s=\${PIPESTATUS[0]}; n=$(cat \"$2.count\")
echo \"status $s, $n bytes on stdout\"; test \"$s\" = 0 && test \"$n\" = 262144 || exit 1
${check_file}"
            $<TARGET_FILE:weft_cli> ${m} ${dir}/pipe)
  add_test(NAME cli.fast_exit_output_to_file
    COMMAND ${WEFT_BASH} -c "${prologue}
\"$0\" run --dir \"$2::/\" \"$1\" > \"$2.stdout\"; s=$?
n=$(wc -c < \"$2.stdout\"); echo \"status $s, $n bytes in the file\"
test \"$s\" = 0 && test \"$n\" = 262144 || exit 1
test \"$(sort -u \"$2.stdout\")\" = \"$line\" || exit 1
${check_file}"
            $<TARGET_FILE:weft_cli> ${m} ${dir}/file)
  add_test(NAME cli.fast_exit_proc_exit_status_and_output
    COMMAND ${WEFT_BASH} -c "${prologue}
\"$0\" run --dir \"$2::/\" --invoke write_and_exit \"$1\" | wc -c > \"$2.count\"; s=\${PIPESTATUS[0]}
n=$(cat \"$2.count\")
echo \"status $s, $n bytes on stdout\"; test \"$s\" = 7 && test \"$n\" = 262144 || exit 1
${check_file}"
            $<TARGET_FILE:weft_cli> ${m} ${dir}/exit)
  endif()
  # Engine-only module: the result is printed with printf into a pipe, then the process
  # ends with _exit; without the flush the line would be lost.
  add_test(NAME cli.fast_exit_invoke_result_to_pipe
    COMMAND ${WEFT_BASH} -c "mkdir -p \"$2\"; \"$0\" run --invoke add64 \"$1\" 40 2 | cat > \"$2/out\"
s=\${PIPESTATUS[0]}; out=$(cat \"$2/out\")
echo \"status $s, stdout '$out'\"; test \"$s\" = 0 && test \"$out\" = 42"
            $<TARGET_FILE:weft_cli> ${WEFT_CLI_WASM_DIR}/invoke.wasm ${dir}/invoke)
endif()
