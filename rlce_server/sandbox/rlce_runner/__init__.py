"""rlce's in-container runner (stdlib only; copied into every sandbox image)."""
