//! `policies` (惠企政策): the library, searched by its words and filtered by what a policy
//! applies to. Visible to a caller: the policies of their region, of the regions above it
//! (a province's, the nation's as the city stored them) and of the regions below it.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Date, Nullable, Text};
use uuid::Uuid;

use crate::domain::policy::{EnterpriseSize, PolicyBenefit, PolicyInput, PolicyLevel};
use crate::schema::policies;

#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = policies, check_for_backend(diesel::pg::Pg))]
pub struct Policy {
    pub id: Uuid,
    pub region_code: String,
    pub title: String,
    pub issuer: String,
    pub doc_number: Option<String>,
    pub level: PolicyLevel,
    pub effective_from: NaiveDate,
    pub effective_to: Option<NaiveDate>,
    pub industries: Vec<String>,
    pub sizes: Vec<EnterpriseSize>,
    pub regions: Vec<String>,
    pub benefit_kind: PolicyBenefit,
    pub summary: String,
    pub full_text: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The columns an input sets, on creation and on replacement alike.
#[derive(AsChangeset, Insertable)]
#[diesel(table_name = policies, treat_none_as_null = true)]
struct Content<'a> {
    title: &'a str,
    issuer: &'a str,
    doc_number: Option<&'a str>,
    level: PolicyLevel,
    effective_from: NaiveDate,
    effective_to: Option<NaiveDate>,
    industries: &'a [String],
    sizes: &'a [EnterpriseSize],
    regions: &'a [String],
    benefit_kind: PolicyBenefit,
    summary: &'a str,
    full_text: Option<&'a str>,
    search_terms: String,
    updated_at: DateTime<Utc>,
}

impl<'a> Content<'a> {
    fn of(p: &'a PolicyInput, at: DateTime<Utc>) -> Self {
        Content {
            title: &p.title,
            issuer: &p.issuer,
            doc_number: p.doc_number.as_deref(),
            level: p.level,
            effective_from: p.effective_from,
            effective_to: p.effective_to,
            industries: &p.industries,
            sizes: &p.sizes,
            regions: &p.regions,
            benefit_kind: p.benefit_kind,
            summary: &p.summary,
            full_text: p.full_text.as_deref(),
            search_terms: p.search_terms(),
            updated_at: at,
        }
    }
}

/// What a search asks for; every part optional.
#[derive(Debug, Default, Clone)]
pub struct PolicyFilter {
    /// The terms a policy must all have (`domain::policy::query_terms`).
    pub terms: Vec<String>,
    pub level: Option<PolicyLevel>,
    pub benefit_kind: Option<PolicyBenefit>,
    pub industry: Option<String>,
    pub size: Option<EnterpriseSize>,
    /// In force on this day.
    pub in_force_on: Option<NaiveDate>,
}

/// The columns of [`Policy`] in the hand-written statements (the search words are never read).
const POLICY_COLUMNS: &str = "p.id, p.region_code, p.title, p.issuer, p.doc_number, p.level,
    p.effective_from, p.effective_to, p.industries, p.sizes, p.regions, p.benefit_kind, p.summary,
    p.full_text, p.created_at, p.updated_at";

/// The most policies one search returns (pages are cut from them).
const SEARCH_LIMIT: i64 = 1000;

impl Policy {
    pub fn insert(
        conn: &mut PgConnection,
        region_code: &str,
        input: &PolicyInput,
        by: Uuid,
        at: DateTime<Utc>,
    ) -> QueryResult<Policy> {
        diesel::insert_into(policies::table)
            .values((
                policies::region_code.eq(region_code),
                policies::created_by.eq(by),
                policies::created_at.eq(at),
                Content::of(input, at),
            ))
            .returning(Policy::as_returning())
            .get_result(conn)
    }

    pub fn replace(
        conn: &mut PgConnection,
        id: Uuid,
        input: &PolicyInput,
        at: DateTime<Utc>,
    ) -> QueryResult<Policy> {
        diesel::update(policies::table.find(id))
            .set(Content::of(input, at))
            .returning(Policy::as_returning())
            .get_result(conn)
    }

    pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Policy>> {
        policies::table
            .find(id)
            .select(Policy::as_select())
            .first(conn)
            .optional()
    }

    /// The policy of the region with this document number, if any (imports update it).
    pub fn by_number(
        conn: &mut PgConnection,
        region_code: &str,
        doc_number: &str,
    ) -> QueryResult<Option<Policy>> {
        policies::table
            .filter(policies::region_code.eq(region_code))
            .filter(policies::doc_number.eq(doc_number))
            .select(Policy::as_select())
            .first(conn)
            .optional()
    }

    /// The policies visible from the region at `path` that pass the filter: best match first
    /// when searching by words, else the newest first.
    pub fn search(conn: &mut PgConnection, path: &str, filter: &PolicyFilter) -> QueryResult<Vec<Policy>> {
        diesel::sql_query(format!(
            "SELECT {POLICY_COLUMNS}
               FROM policies p JOIN regions r ON r.code = p.region_code
              WHERE ($1 LIKE r.path || '%' OR r.path LIKE $1 || '%')
                AND (cardinality($2::text[]) = 0 OR p.search @@ to_tsquery('simple', array_to_string($2, ' & ')))
                AND ($3::text IS NULL OR p.level = $3)
                AND ($4::text IS NULL OR p.benefit_kind = $4)
                AND ($5::text IS NULL OR cardinality(p.industries) = 0 OR $5 = ANY (p.industries))
                AND ($6::text IS NULL OR cardinality(p.sizes) = 0 OR $6 = ANY (p.sizes))
                AND ($7::date IS NULL OR (p.effective_from <= $7 AND (p.effective_to IS NULL OR p.effective_to >= $7)))
              ORDER BY CASE WHEN cardinality($2::text[]) = 0 THEN 0
                            ELSE ts_rank(p.search, to_tsquery('simple', array_to_string($2, ' & '))) END DESC,
                       p.effective_from DESC, p.id
              LIMIT {SEARCH_LIMIT}"
        ))
        .bind::<Text, _>(path)
        .bind::<Array<Text>, _>(&filter.terms)
        .bind::<Nullable<Text>, _>(filter.level.map(PolicyLevel::as_str))
        .bind::<Nullable<Text>, _>(filter.benefit_kind.map(PolicyBenefit::as_str))
        .bind::<Nullable<Text>, _>(filter.industry.as_deref())
        .bind::<Nullable<Text>, _>(filter.size.map(EnterpriseSize::as_str))
        .bind::<Nullable<Date>, _>(filter.in_force_on)
        .load(conn)
    }

    /// The policies that apply to an enterprise of `industry` and `size` in the region at
    /// `path` on `day`: issued at or above its region, in force, for its industry (or any), its
    /// size (or any; an enterprise of unknown size is offered them all), and for a region at or
    /// above its own (or, none listed, the policy's). Newest first.
    pub fn applicable(
        conn: &mut PgConnection,
        path: &str,
        industry: &str,
        size: Option<EnterpriseSize>,
        day: NaiveDate,
    ) -> QueryResult<Vec<Policy>> {
        diesel::sql_query(format!(
            "SELECT {POLICY_COLUMNS}
               FROM policies p JOIN regions r ON r.code = p.region_code
              WHERE $1 LIKE r.path || '%'
                AND p.effective_from <= $3 AND (p.effective_to IS NULL OR p.effective_to >= $3)
                AND (cardinality(p.industries) = 0 OR $2 = ANY (p.industries))
                AND ($4::text IS NULL OR cardinality(p.sizes) = 0 OR $4 = ANY (p.sizes))
                AND (cardinality(p.regions) = 0
                     OR EXISTS (SELECT 1 FROM regions listed
                                 WHERE listed.code = ANY (p.regions) AND $1 LIKE listed.path || '%'))
              ORDER BY p.effective_from DESC, p.id"
        ))
        .bind::<Text, _>(path)
        .bind::<Text, _>(industry)
        .bind::<Date, _>(day)
        .bind::<Nullable<Text>, _>(size.map(EnterpriseSize::as_str))
        .load(conn)
    }
}
