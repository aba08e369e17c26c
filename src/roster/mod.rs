//! Roster administration: the regions, units, enterprises, users and assignments an admin
//! keeps. Import files and the admin API share the same validation (`domain::roster`) and the
//! same writes (`save`), so a row means the same thing however it arrives.

pub mod import;
pub mod reader;
pub mod save;
