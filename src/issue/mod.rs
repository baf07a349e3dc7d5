//! Issuing tokens (placeholder; being written).
