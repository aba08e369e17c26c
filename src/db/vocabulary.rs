//! The closed vocabularies of `domain` as `TEXT` columns: each word is written as its
//! `as_str` and read back through `FromStr`, so a column holding a word the code does not know
//! (which the columns' `CHECK` constraints prevent) fails loudly instead of being misread.

use crate::domain::attachment::MediaType;
use crate::domain::co_handling::CoStatus;
use crate::domain::daily_report::ProductionStatus;
use crate::domain::job_opening::JobType;
use crate::domain::lifecycle::{ActorRole, EventKind, ExtensionStatus, Outcome, Rating, Status};
use crate::domain::notification::{Audience, Channel, DeliveryStatus, NotificationKind, RobotPlatform};
use crate::domain::policy::{EnterpriseSize, PolicyBenefit, PolicyLevel};
use crate::domain::policy_checkoff::CheckoffStatus;
use crate::domain::problem::Urgency;
use crate::domain::role::Role;
use crate::domain::unit_kind::UnitKind;

/// `ToSql`/`FromSql` as `TEXT` for vocabularies (also used by `signin::batch`).
macro_rules! text_columns {
    ($($vocabulary:ty),+ $(,)?) => {$(
        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $vocabulary {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                std::io::Write::write_all(out, self.as_str().as_bytes())?;
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $vocabulary {
            fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                Ok(std::str::from_utf8(bytes.as_bytes())?.parse()?)
            }
        }
    )+};
}

pub(crate) use text_columns;

text_columns!(
    ActorRole,
    MediaType,
    CheckoffStatus,
    Audience,
    Channel,
    CoStatus,
    DeliveryStatus,
    EventKind,
    EnterpriseSize,
    ExtensionStatus,
    JobType,
    NotificationKind,
    Outcome,
    PolicyBenefit,
    PolicyLevel,
    ProductionStatus,
    Rating,
    RobotPlatform,
    Role,
    Status,
    UnitKind,
    Urgency,
);
