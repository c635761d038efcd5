// Placeholder: keeps weft_wasi non-empty until sources land.
