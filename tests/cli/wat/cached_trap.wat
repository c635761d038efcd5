;; Run twice with a code cache (tests/cli/code_cache.cmake): the second run starts from
;; the first run's translated code, call_indirect included, and traps the same way.
(module $cached
  (type $t (func (param i32) (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) $divide)
  (func $divide (type $t) (i32.div_u (i32.const 100) (local.get 0)))
  (func $run (export "run") (param i32) (result i32)
    (call_indirect (type $t) (local.get 0) (i32.const 0)))
  (func (export "_start") (drop (call $run (i32.const 0)))))
