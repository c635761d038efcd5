;; Writes "y\n" to stdout until fd_write fails, then exits with that errno (EPIPE = 64
;; when the reader of a pipe is gone). Checks that weft survives SIGPIPE.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "y\n")
  (func (export "_start") (local $err i32)
    (i32.store (i32.const 0) (i32.const 16))  ;; iovec.buf
    (i32.store (i32.const 4) (i32.const 2))   ;; iovec.len
    (loop $again
      (local.set $err (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
      (br_if $again (i32.eqz (local.get $err))))
    (call $proc_exit (local.get $err))))
