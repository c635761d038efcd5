// The weft executable's entry point (linked with -e weft_entry, static PIE only).
//
// The pages a process touches first are what a short run like `weft run hello.wasm`
// spends its time on (issue 5): every first touch of a writable page is a page fault, and
// the static PIE's relocation alone writes all of .data.rel.ro before main. Two
// madvise calls before glibc's _start map what start-up touches in two system calls:
//   - MADV_POPULATE_WRITE over the writable segment (RELRO, .data, .bss), up to the
//     interpreter stacks in .lbss (run.cc: 32 MiB, touched only as deep as calls go);
//   - MADV_POPULATE_READ from the ELF header to the end of the start-up code: the
//     relocation entries, .rodata, then the code the linker's ordering file
//     (startup_order.txt) places between weft_entry and weft_startup_text_end.
// Runs before relocation, so it uses only PC-relative addresses and raw system calls, and
// keeps %rdx (the kernel's rtld_fini argument to _start). A kernel older than 5.14 answers
// EINVAL, which is ignored. The read populate is skipped when the end marker lies before
// the entry or more than 1 MiB after it (an order the linker did not apply). Linked
// without the order (-DWEFT_STARTUP_ORDER=OFF, GNU ld) the two sit side by side, and it
// covers the read-only data and whatever code precedes them.
asm(R"(
  .section .text.weft_entry, "ax", @progbits
  .globl weft_entry
  .type weft_entry, @function
weft_entry:
  mov %rdx, %r12

  lea __init_array_start(%rip), %rdi   # the RELRO part starts on this page
  and $-4096, %rdi
  lea _end(%rip), %rsi
  lea weft_exec_stacks(%rip), %rax     # up to the interpreter stacks (.lbss, run.cc)
  cmp %rsi, %rax
  cmovb %rax, %rsi
  add $4095, %rsi
  and $-4096, %rsi
  sub %rdi, %rsi
  jbe 2f
  mov $23, %edx                        # MADV_POPULATE_WRITE
  mov $28, %eax                        # SYS_madvise
  syscall
2:

  lea weft_startup_text_end(%rip), %rsi
  lea weft_entry(%rip), %rax
  mov %rsi, %rcx
  sub %rax, %rcx
  jbe 1f                               # not ordered: the end lies before the entry
  cmp $0x100000, %rcx                  # nor is an order spanning more than 1 MiB
  ja 1f
  lea __ehdr_start(%rip), %rdi         # read-only data, then the start-up code
  sub %rdi, %rsi
  mov $22, %edx                        # MADV_POPULATE_READ
  mov $28, %eax
  syscall
1:
  mov %r12, %rdx
  xor %r12d, %r12d
  jmp _start
  .size weft_entry, .-weft_entry

  .section .text.weft_startup_text_end, "ax", @progbits
  .globl weft_startup_text_end
  .type weft_startup_text_end, @function
weft_startup_text_end:
  ret
  .size weft_startup_text_end, .-weft_startup_text_end
  .text
)");
