//! Pure business rules: no I/O, no database, no clock reads. Each file is one concept with
//! its own unit tests.

pub mod attachment;
pub mod benefit;
pub mod calendar;
pub mod category;
pub mod classifier;
pub mod co_handling;
pub mod credit_code;
pub mod daily_report;
pub mod daily_summary;
pub mod day;
pub mod deadline;
pub mod enterprise_size;
pub mod field_error;
pub mod geo;
pub mod job_opening;
pub mod lifecycle;
pub mod metrics;
pub mod notification;
pub mod officer_rating;
pub mod phone;
pub mod policy;
pub mod policy_checkoff;
pub mod problem;
pub mod region_code;
pub mod role;
pub mod rollup;
pub mod roster;
pub mod similarity;
pub mod subscribe_field;
pub mod unit_kind;
pub mod vocabulary;
