(module $starter (func $init unreachable) (start $init))
