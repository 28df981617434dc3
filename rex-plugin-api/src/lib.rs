//! The stable rex plugin interface.
