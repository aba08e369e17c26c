//! The closed vocabularies of `domain` as `TEXT` columns: each word is written as its
//! `as_str` and read back through `FromStr`, so a column holding a word the code does not know
//! (which the columns' `CHECK` constraints prevent) fails loudly instead of being misread.

use std::io::Write;

use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

use crate::domain::daily_report::ProductionStatus;
use crate::domain::lifecycle::{ActorRole, EventKind, ExtensionStatus, Outcome, Rating, Status};
use crate::domain::problem::Urgency;
use crate::domain::role::Role;
use crate::domain::unit_kind::UnitKind;

macro_rules! text_columns {
    ($($vocabulary:ty),+ $(,)?) => {$(
        impl ToSql<Text, Pg> for $vocabulary {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                out.write_all(self.as_str().as_bytes())?;
                Ok(serialize::IsNull::No)
            }
        }

        impl FromSql<Text, Pg> for $vocabulary {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                Ok(std::str::from_utf8(bytes.as_bytes())?.parse()?)
            }
        }
    )+};
}

text_columns!(
    ActorRole,
    EventKind,
    ExtensionStatus,
    Outcome,
    ProductionStatus,
    Rating,
    Role,
    Status,
    UnitKind,
    Urgency,
);
