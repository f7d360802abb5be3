//! Lookup record bodies (in progress).
