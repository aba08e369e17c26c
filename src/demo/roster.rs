//! The demo roster: `data/demo/*.csv`, in the formats of the admin import (see the import's
//! documentation in api-spec/openapi.yaml), compiled into the binary.

use anyhow::anyhow;
use chrono::{DateTime, Utc};
use diesel::PgConnection;

use crate::roster::import::{self, Kind};
use crate::roster::reader::{self, Row};
use crate::roster::save::Writer;

/// The files in the order they load: each refers only to what the ones before it created.
const FILES: [(Kind, &[u8]); 5] = [
    (Kind::Regions, include_bytes!("../../data/demo/regions.csv")),
    (Kind::Units, include_bytes!("../../data/demo/units.csv")),
    (
        Kind::Enterprises,
        include_bytes!("../../data/demo/enterprises.csv"),
    ),
    (Kind::Users, include_bytes!("../../data/demo/users.csv")),
    (
        Kind::Assignments,
        include_bytes!("../../data/demo/assignments.csv"),
    ),
];

/// A demo user as the logins list shows them.
pub struct DemoUser {
    pub username: String,
    pub name: String,
    pub phone: String,
    pub roles: String,
    pub unit_code: String,
}

/// An officer's pairing with an enterprise, in file order.
pub struct Pairing {
    pub officer: String,
    pub credit_code: String,
}

/// The files, read.
pub struct Files {
    rows: Vec<(Kind, Vec<Row>)>,
    pub users: Vec<DemoUser>,
    /// Credit codes in file order (the history sizes each enterprise's staff by its place).
    pub enterprises: Vec<String>,
    pub pairings: Vec<Pairing>,
}

fn field(row: &Row, name: &str) -> String {
    row.fields.get(name).cloned().unwrap_or_default()
}

impl Files {
    pub fn read() -> anyhow::Result<Files> {
        let mut rows = Vec::new();
        for (kind, bytes) in FILES {
            let read = reader::read(bytes, kind.columns(), kind.required_columns())
                .map_err(|e| anyhow!("data/demo {kind:?}: {e}"))?;
            rows.push((kind, read));
        }
        let of = |wanted: Kind| -> &[Row] {
            rows.iter()
                .find(|(kind, _)| *kind == wanted)
                .map_or(&[], |(_, rows)| rows.as_slice())
        };
        let users = of(Kind::Users)
            .iter()
            .map(|r| DemoUser {
                username: field(r, "username"),
                name: field(r, "name"),
                phone: field(r, "phone"),
                roles: field(r, "roles"),
                unit_code: field(r, "unit_code"),
            })
            .collect();
        let enterprises = of(Kind::Enterprises)
            .iter()
            .map(|r| field(r, "credit_code"))
            .collect();
        let pairings = of(Kind::Assignments)
            .iter()
            .map(|r| Pairing {
                officer: field(r, "officer_username"),
                credit_code: field(r, "enterprise_credit_code"),
            })
            .collect();
        Ok(Files {
            rows,
            users,
            enterprises,
            pairings,
        })
    }

    /// Imports every file as the demo admin; returns the (username, invite code) of every user
    /// created, in file order.
    pub fn load(
        &self,
        conn: &mut PgConnection,
        writer: &Writer,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<(String, String)>> {
        let mut invites = Vec::new();
        for (kind, rows) in &self.rows {
            let report = import::run(conn, writer, *kind, rows.clone(), false, now)
                .map_err(|e| anyhow!("importing data/demo {kind:?}: {e:?}"))?;
            invites.extend(
                report
                    .invite_codes
                    .into_iter()
                    .map(|invite| (invite.username, invite.invite_code)),
            );
        }
        Ok(invites)
    }
}
