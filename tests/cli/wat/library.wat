;; A module without WASI, `_start` or `_initialize`: `weft run` instantiates it (running
;; its start function, which writes memory) and exits 0 (engine.cmake).
(module
  (memory 1)
  (func $init (i32.store (i32.const 0) (i32.const 7)))
  (start $init)
  (func (export "peek") (result i32) (i32.load (i32.const 0))))
