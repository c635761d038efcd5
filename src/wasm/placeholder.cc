// Placeholder: keeps weft_wasm non-empty until sources land.
