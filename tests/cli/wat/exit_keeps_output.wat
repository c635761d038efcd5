;; Start-up (issue 5): weft ends the process without tearing the store down once the
;; guest is done. Everything the guest wrote must still arrive: 256 KiB on stdout (more
;; than a pipe holds, so the writes block on the reader) and 192 bytes into a file it
;; creates under the preopen (fd 3) and never closes.
;;   _start          writes both and returns (exit 0)
;;   write_and_exit  writes both, then proc_exit(7)
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "kept.txt")
  ;; one 64-byte line
  (data (i32.const 16) "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.\n")
  ;; iovec {ptr 16, len 64} at 1024; nwritten at 2048; opened fd at 2052

  (func $write_all (param $fd i32) (param $times i32)
    (loop $again
      (if (i32.ne (call $fd_write (local.get $fd) (i32.const 1024) (i32.const 1) (i32.const 2048))
                  (i32.const 0))
        (then unreachable))
      (if (i32.ne (i32.load (i32.const 2048)) (i32.const 64)) (then unreachable))
      (local.set $times (i32.sub (local.get $times) (i32.const 1)))
      (br_if $again (local.get $times))))

  (func $work
    (i32.store (i32.const 1024) (i32.const 16))
    (i32.store (i32.const 1028) (i32.const 64))
    (call $write_all (i32.const 1) (i32.const 4096))
    ;; path_open(fd 3, no follow flags, "kept.txt", O_CREAT|O_TRUNC, rights fd_write)
    (if (i32.ne (call $path_open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 8)
                                 (i32.const 9) (i64.const 64) (i64.const 0) (i32.const 0)
                                 (i32.const 2052))
                (i32.const 0))
      (then unreachable))
    (call $write_all (i32.load (i32.const 2052)) (i32.const 3)))

  (func (export "_start") (call $work))
  (func (export "write_and_exit") (call $work) (call $proc_exit (i32.const 7)))
)
