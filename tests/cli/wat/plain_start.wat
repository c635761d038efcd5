;; A module without WASI whose `_start` takes arguments and returns a result: as under
;; `wasmtime run`, the arguments after the module are parsed as its parameters and the
;; result is printed (engine.cmake). `_initialize` must not run for a command.
(module
  (global $initialized (mut i32) (i32.const 0))
  (func (export "_initialize") (global.set $initialized (i32.const 1)))
  (func (export "_start") (param i32 i32) (result i32)
    (i32.add (i32.add (local.get 0) (local.get 1))
             (i32.mul (global.get $initialized) (i32.const 1000)))))
