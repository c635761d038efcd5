// Keeps weft_wasi_preview1 non-empty while the binding is being written.
