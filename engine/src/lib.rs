//! engine: being written
