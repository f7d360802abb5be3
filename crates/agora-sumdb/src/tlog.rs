//! The tiled transparency log (in progress).
