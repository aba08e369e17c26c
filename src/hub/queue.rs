//! The hub's queue: problems waiting for a dispatcher (submitted or returned), urgent first,
//! then oldest; leases so that several dispatchers (on several instances) never work the same
//! item; and the similar open problems shown beside each item (共性问题).

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use crate::db::models::problem::Problem;
use crate::db::models::scoped::RecordScope;
use crate::domain::lifecycle::Status;
use crate::domain::problem::Urgency;
use crate::domain::similarity::{Fingerprint, Pool};
use crate::schema::problems;

pub const MAX_CLAIM: i64 = 50;
pub const MIN_LEASE_SECONDS: i64 = 30;
pub const MAX_LEASE_SECONDS: i64 = 3600;
/// Similar problems listed per queue item.
pub const SIMILAR: usize = 3;
/// How many recent open problems of the region are compared with the queue page.
const SIMILAR_POOL: i64 = 1000;

/// One page of the queue of a region subtree, in queue order (`Urgency::queue_rank`, then
/// oldest); the cursor is the last item's (urgency, created_at, id).
pub fn page(
    conn: &mut PgConnection,
    root_path: &str,
    after: Option<(Urgency, DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<Problem>> {
    let mut query = problems::table
        .filter(problems::status.eq_any(Status::IN_QUEUE))
        .filter(problems::region_code.eq_any(RecordScope::subtree(root_path)))
        .order((problems::queue_rank, problems::created_at, problems::id))
        .limit(limit + 1)
        .select(Problem::as_select())
        .into_boxed();
    if let Some((urgency, at, id)) = after {
        let rank = urgency.queue_rank();
        query = query.filter(
            problems::queue_rank
                .gt(rank)
                .or(problems::queue_rank.eq(rank).and(
                    problems::created_at
                        .gt(at)
                        .or(problems::created_at.eq(at).and(problems::id.gt(id))),
                )),
        );
    }
    query.load(conn)
}

/// Leases up to `limit` free queue items of the subtree to `holder` until `now + lease`.
/// First hands back leases that ran out, then takes free items in queue order; both pick
/// their rows with `FOR UPDATE SKIP LOCKED`, so a concurrent claimer skips rows another holds
/// instead of waiting, and no item is ever handed to two claimers. Call inside a transaction.
pub fn claim(
    conn: &mut PgConnection,
    root_path: &str,
    holder: Uuid,
    now: DateTime<Utc>,
    lease: Duration,
    limit: i64,
) -> QueryResult<Vec<Problem>> {
    diesel::sql_query(
        "UPDATE problems SET lease_holder_id = NULL, lease_expires_at = NULL \
         WHERE id IN ( \
             SELECT id FROM problems \
             WHERE lease_holder_id IS NOT NULL AND lease_expires_at <= $1 \
             FOR UPDATE SKIP LOCKED)",
    )
    .bind::<Timestamptz, _>(now)
    .execute(conn)?;
    let mut claimed: Vec<Problem> = diesel::sql_query(
        "UPDATE problems SET lease_holder_id = $1, lease_expires_at = $2 \
         WHERE id IN ( \
             SELECT id FROM problems \
             WHERE status IN ('submitted', 'returned') AND lease_holder_id IS NULL \
               AND region_code IN (SELECT code FROM regions WHERE path LIKE $3 || '%') \
             ORDER BY queue_rank, created_at, id \
             LIMIT $4 \
             FOR UPDATE SKIP LOCKED) \
         RETURNING *",
    )
    .bind::<SqlUuid, _>(holder)
    .bind::<Timestamptz, _>(now + lease)
    .bind::<Text, _>(root_path)
    .bind::<BigInt, _>(limit)
    .load(conn)?;
    claimed.sort_by_key(|p| (p.urgency.queue_rank(), p.created_at, p.id));
    Ok(claimed)
}

/// A problem shown as similar to a queue item.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Similar {
    pub id: Uuid,
    pub enterprise_id: Uuid,
    pub title: String,
    pub status: Status,
    pub similarity: f64,
}

/// For each item, up to three open problems of other enterprises in the subtree that read
/// alike, most alike first.
pub fn similar_to(
    conn: &mut PgConnection,
    root_path: &str,
    items: &[Problem],
) -> QueryResult<Vec<Vec<Similar>>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let open: Vec<(Uuid, Uuid, String, String, Status)> = problems::table
        .filter(problems::status.ne_all(Status::FINISHED))
        .filter(problems::region_code.eq_any(RecordScope::subtree(root_path)))
        .order(problems::created_at.desc())
        .limit(SIMILAR_POOL)
        .select((
            problems::id,
            problems::enterprise_id,
            problems::title,
            problems::description,
            problems::status,
        ))
        .load(conn)?;
    let fingerprints: Vec<Fingerprint> = open.iter().map(|p| Fingerprint::of(&p.3)).collect();
    let index = Pool::new(&fingerprints);
    Ok(items
        .iter()
        .map(|item| {
            let target = Fingerprint::of(&item.description);
            let other = |i: usize| open[i].0 != item.id && open[i].1 != item.enterprise_id;
            index
                .most_similar(&target, SIMILAR, other)
                .into_iter()
                .map(|(i, score)| {
                    let (id, enterprise_id, title, _, status) = &open[i];
                    Similar {
                        id: *id,
                        enterprise_id: *enterprise_id,
                        title: title.clone(),
                        status: *status,
                        similarity: (score * 100.0).round() / 100.0,
                    }
                })
                .collect()
        })
        .collect())
}
