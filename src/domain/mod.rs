//! Pure business rules: no I/O, no database, no clock reads. Each file is one concept with
//! its own unit tests.

pub mod credit_code;
pub mod phone;
pub mod region_code;
pub mod role;
pub mod roster;
pub mod unit_kind;
