//! The load itself: the one worker loop every driver runs ([`worker::WorkerCore`]), what an
//! operation can end in ([`errors`]), the plan as a timeline ([`timeline`]), and the collector
//! that turns the workers' shipments into interval records as the run goes, with its sinks (the
//! interval log it writes, the live [`progress`] line).

pub mod collector;
pub mod errors;
pub mod progress;
pub mod timeline;
pub mod worker;
