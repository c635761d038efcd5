(module (import "env" "missing_fn" (func (param i32))) (func (export "f")))
