//! The load itself: the one worker loop every driver runs ([`worker::WorkerCore`]), what an
//! operation can end in ([`errors`]) and what the failed answers said ([`answers`]), the plan as a timeline ([`timeline`]), and the collector
//! that turns the workers' shipments into interval records as the run goes ([`collector`],
//! adding them up in [`acc::Acc`], their counters in [`counts::Counts`]), with its sinks: the interval log ([`hlog`]), the capacity
//! search ([`capacity`]) and the live [`progress`] line; finished stages' histograms are kept
//! encoded ([`sealed`]). HTTP runs of several request templates
//! also tally each template apart ([`templates`]), and per slice for the live metrics
//! ([`template_live`], on the [`buckets`] every live histogram uses).

pub mod acc;
pub mod answers;
pub mod buckets;
pub mod capacity;
pub mod collector;
pub mod counts;
pub mod errors;
pub mod histogram;
pub mod hlog;
pub mod live;
pub mod progress;
pub mod recorder;
pub mod sealed;
pub mod shipment;
pub mod spool;
pub mod template_live;
pub mod templates;
pub mod timeline;
pub mod worker;
