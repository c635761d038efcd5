# `weft run x.wasm | head`: when the reader goes away the guest gets EPIPE from fd_write
# (and here exits with it, 64), weft is not killed by SIGPIPE (which would be 141).
find_program(WEFT_BASH bash)
if(WEFT_BASH)
  add_test(NAME cli.sigpipe_gives_epipe
    COMMAND ${WEFT_BASH} -c "\"$0\" run \"$1\" | head -c 4 >/dev/null; s=\${PIPESTATUS[0]}; echo \"weft exit $s\"; test \"$s\" = 64"
            $<TARGET_FILE:weft_cli> ${WEFT_CLI_WASM_DIR}/yes_until_epipe.wasm)
endif()
