//! The command line: `zhuqi serve | migrate | seed-demo | demo-day | reconcile-stats | partitions |
//! create-admin`.

pub mod create_admin;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "zhuqi",
    version,
    about = "Backend of the 驻企联络员 mini-program and the 驻企办 hub",
    long_about = "Backend of the 驻企联络员 mini-program and the 驻企办 hub.\n\n\
        Configuration comes from the environment: DATABASE_URL, REDIS_URL, BIND_ADDR, JWT_SECRET, \
        WECHAT_APPID, WECHAT_SECRET, WECHAT_API_BASE, RUST_LOG (see README.md). `migrate`, \
        `seed-demo` and `create-admin` need only DATABASE_URL; `reconcile-stats` also REDIS_URL."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (and run the background jobs); applies pending migrations first.
    Serve,
    /// Apply pending database migrations (embedded in the binary) and exit.
    Migrate,
    /// Create the demo city 株洲市 with enterprises, units, officers and a hub; prints the
    /// logins. Running it again changes nothing and prints them again.
    SeedDemo,
    /// Compare the dashboards' Redis counters and cached figures with PostgreSQL and repair
    /// any drift (the server also does this every five minutes). Needs DATABASE_URL and
    /// REDIS_URL (and REDIS_KEY_PREFIX when the server uses one).
    ReconcileStats,
    /// One working day of the demo city's notifications, sent to a fake WeChat and fake group
    /// robots started inside the command, and printed as they go out. Makes (and keeps) a
    /// database of its own on the PostgreSQL server of DATABASE_URL; needs REDIS_URL.
    DemoDay {
        /// The database to make for the day (dropped first if it exists).
        #[arg(long, default_value = "zhuqi_demo_day")]
        database: String,
    },
    /// The tables partitioned by month: `ensure` makes the partitions of this month and the next
    /// three now (the server also does it at start and four times a day); `detach 2025-01`
    /// detaches that month's partition of every table, to be archived and dropped as
    /// docs/scaling.md describes.
    Partitions {
        #[command(subcommand)]
        action: PartitionsAction,
    },
    /// Roll the officers' settled days up now (the server does it every ten minutes): the first
    /// run on a database with history rolls all of it, a month at a time (docs/scaling.md).
    RollOfficerDays,
    /// Bootstrap an admin of a region (creates the region when it does not exist yet). An
    /// existing username gets the admin role and the new password. The password (8–128
    /// characters) comes from ZHUQI_ADMIN_PASSWORD or, without it, the first line of standard
    /// input, never from the command line (which `ps` and shell histories show to others).
    CreateAdmin {
        /// Console login name.
        #[arg(long)]
        username: String,
        /// GB/T 2260 code of the region the admin manages, e.g. 430200.
        #[arg(long)]
        region_code: String,
        /// Name of the region, required when it does not exist yet, e.g. 株洲市.
        #[arg(long)]
        region_name: Option<String>,
        /// The admin's display name (default: the username).
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PartitionsAction {
    /// Create this month's and the next three months' partitions where they are missing.
    Ensure,
    /// Detach one month's partition of every partitioned table.
    Detach {
        /// The month, YYYY-MM.
        month: String,
    },
}
