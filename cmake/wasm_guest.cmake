# weft_add_wasm_guest(TARGET SOURCE OUTPUT [FLAGS...]): compiles a C guest program to
# wasm32-wasi with clang-19 and wasi-libc (Debian: clang-19 lld-19 wasi-libc
# libclang-rt-19-dev-wasm32).
find_program(WEFT_WASI_CC NAMES clang-19)
function(weft_add_wasm_guest target source output)
  if(NOT WEFT_WASI_CC)
    message(WARNING "clang-19 not found: guest ${target} not built")
    return()
  endif()
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${WEFT_WASI_CC} --target=wasm32-wasi --sysroot=/usr -O2 ${ARGN} -o ${output} ${source}
    DEPENDS ${source}
    COMMENT "wasm32-wasi: ${target}"
    VERBATIM)
  add_custom_target(${target} ALL DEPENDS ${output})
endfunction()
