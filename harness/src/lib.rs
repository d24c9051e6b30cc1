//! harness: being written
