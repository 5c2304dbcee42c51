//! The simulated city, for the demo, the tests and the benchmarks; a production build of
//! the gateway does not contain it.
//!
//! - [`seed`]: a deterministic synthetic data set modelled on Liaoyuan, loaded into the
//!   gateway's database;
//! - [`simulator`]: the 96 department systems and the 12345 hotline, serving records
//!   derived from the same data set, so that ids line up with the gateway's index.

pub mod seed;
pub mod simulator;
