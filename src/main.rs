//! `zhuqi`: reads the command line and the environment, then runs one subcommand.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use diesel::{Connection, PgConnection};

use zhuqi::attachments::store::Store;
use zhuqi::cache::Cache;
use zhuqi::cli::{Cli, Command};
use zhuqi::clock::Clock;
use zhuqi::config::{LogFormat, Settings};
use zhuqi::startup::Application;
use zhuqi::state::AppState;
use zhuqi::stats::reconcile;
use zhuqi::{cli, config, db, demo, jobs, telemetry};

use std::time::Duration;

/// How long a background job may take to finish its pass once the server is stopping.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve => serve(),
        Command::DemoDay { database } => {
            telemetry::init(LogFormat::Text);
            demo_day(&database)
        }
        other => {
            telemetry::init(LogFormat::Text);
            one_off(other)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line an operator can act on, with the causes after it.
            eprintln!("zhuqi: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Commands that need only the database.
fn one_off(command: Command) -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .context("configuration error: DATABASE_URL is not set")?;
    let mut conn = PgConnection::establish(&url).context("connecting to PostgreSQL (DATABASE_URL)")?;
    let applied = db::migrate(&mut conn)?;
    match command {
        Command::Migrate => {
            println!("{} migration(s) applied", applied.len());
        }
        Command::SeedDemo => {
            let clock = Clock::system();
            let store = Store::open(&config::object_store_url(std::env::var("OBJECT_STORE_URL").ok())?)?;
            print!(
                "{}",
                demo::seed_demo(&mut conn, &store, clock.today(), clock.now(), demo::History::Week)?
            );
        }
        Command::CreateAdmin {
            username,
            region_code,
            region_name,
            name,
        } => {
            let password = admin_password()?;
            let (user, created) = cli::create_admin::create_admin(
                &mut conn,
                &username,
                &password,
                &region_code,
                region_name.as_deref(),
                name.as_deref(),
            )?;
            let verb = if created { "created" } else { "updated" };
            println!("admin {} {verb} for region {}", user.username, user.region_code);
        }
        Command::ReconcileStats => reconcile_stats(&url)?,
        Command::Partitions { action } => partitions(&mut conn, action)?,
        Command::RollOfficerDays => {
            for (from, to) in jobs::roll_officer_days::tick(&mut conn, Clock::system().now(), || false)? {
                println!("rolled {from} to {to}");
            }
        }
        Command::Serve | Command::DemoDay { .. } => unreachable_serve(),
    }
    Ok(())
}

fn unreachable_serve() {}

/// `zhuqi partitions ensure | detach <month>`: what an operator runs to make the coming
/// months' partitions now, or to detach an old month for archiving (docs/scaling.md).
fn partitions(conn: &mut PgConnection, action: cli::PartitionsAction) -> anyhow::Result<()> {
    use db::partitions::{self, Outcome};
    match action {
        cli::PartitionsAction::Ensure => {
            let ensured = partitions::ensure(conn, Clock::system().today()).context("creating partitions")?;
            for e in ensured {
                let said = match e.outcome {
                    Outcome::Created => "created",
                    Outcome::Exists => "exists",
                    Outcome::Crowded => {
                        "crowded: rows of the month are in the default partition (docs/scaling.md)"
                    }
                };
                println!("{} {said}", partitions::partition_name(e.table, e.month));
            }
        }
        cli::PartitionsAction::Detach { month } => {
            let month = month
                .parse()
                .map_err(|()| anyhow::anyhow!("the month is written YYYY-MM, e.g. 2025-01; got {month:?}"))?;
            let detached = partitions::detach(conn, month).context("detaching the month's partitions")?;
            if detached.is_empty() {
                println!("no partition of {month} is attached");
            }
            for table in detached {
                println!("{table} detached");
            }
        }
    }
    Ok(())
}

/// The new admin's password: ZHUQI_ADMIN_PASSWORD, else the first line of standard input.
fn admin_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("ZHUQI_ADMIN_PASSWORD") {
        return Ok(password);
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(
        !password.is_empty(),
        "no password: set ZHUQI_ADMIN_PASSWORD or give it on standard input"
    );
    Ok(password)
}

/// `zhuqi reconcile-stats`: one reconciliation pass, its outcome printed as JSON.
fn reconcile_stats(database_url: &str) -> anyhow::Result<()> {
    let redis_url = std::env::var("REDIS_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .context("configuration error: REDIS_URL is not set")?;
    let prefix = std::env::var("REDIS_KEY_PREFIX").unwrap_or_else(|_| "zhuqi:".to_owned());
    let pool = db::pool(database_url, 2);
    actix_web::rt::System::new().block_on(async move {
        let cache = Cache::new(&redis_url, Duration::from_millis(2000), &prefix);
        cache.connect_in_background();
        for _ in 0..50 {
            if cache.ping().await {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let outcome = reconcile::run(&pool, &cache, Clock::system().now()).await?;
        anyhow::ensure!(
            outcome.redis_available,
            "Redis at REDIS_URL did not answer; nothing to reconcile"
        );
        println!("{}", serde_json::to_string(&outcome)?);
        Ok(())
    })
}

/// `zhuqi demo-day`: the demo city's notifications of one day, sent to fakes and printed.
fn demo_day(database: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        !database.is_empty()
            && database
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "--database takes lower-case letters, digits and underscores"
    );
    let env = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .with_context(|| format!("configuration error: {name} is not set"))
    };
    let (server, redis) = (env("DATABASE_URL")?, env("REDIS_URL")?);
    actix_web::rt::System::new().block_on(async move {
        let report = demo::day::run(&server, database, &redis, |line| println!("{line}")).await?;
        println!(
            "\n{} WeChat subscribe messages and {} group robot posts on Friday 20 November 2026 \
             (database {database}); by kind: {:?}",
            report.wechat, report.robot, report.by_kind
        );
        Ok(())
    })
}

/// Spawns each background job's `run_until_stopped`, paired with its module's name (the name its
/// passes log under), so that a job that overruns the shutdown's grace is named.
macro_rules! spawn_jobs {
    ($state:expr, $shutdown:expr; $($job:ident),+ $(,)?) => {
        [$((
            stringify!($job),
            actix_web::rt::spawn(jobs::$job::run_until_stopped($state.clone(), $shutdown.clone())),
        )),+]
    };
}

#[actix_web::main]
async fn serve() -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    telemetry::init(settings.log_format);
    let state = actix_web::web::Data::new(AppState::new(settings, Clock::system())?);
    let migrate_pool = state.pool.clone();
    let applied = actix_web::rt::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        let mut conn = migrate_pool
            .get()
            .context("connecting to PostgreSQL (DATABASE_URL)")?;
        db::migrate(&mut conn)
    })
    .await??;
    tracing::info!(applied = applied.len(), "migrations up to date");
    let learner = state.clone();
    let learned = actix_web::rt::task::spawn_blocking(move || -> anyhow::Result<usize> {
        let mut conn = learner
            .pool
            .get()
            .context("connecting to PostgreSQL (DATABASE_URL)")?;
        Ok(learner.classifier.learn_from_history(&mut conn)?)
    })
    .await??;
    tracing::info!(learned, "classifier learned the hub's past triage");
    let (stop_jobs, shutdown) = jobs::shutdown_signal();
    let running = spawn_jobs!(state, shutdown;
        prune_idempotency, prune_attachments, escalate, reconcile_stats, freeze_months, reminders,
        replicas, partitions, roll_officer_days, notify);
    let app = Application::build(state.clone())?;
    tracing::info!(port = app.port(), "serving");
    // SIGTERM or SIGINT: actix stops accepting and lets the requests in flight finish (each
    // sign-in among them waits for its batch to commit).
    app.run_until_stopped().await?;
    tracing::info!("stopped accepting; writing the sign-ins still queued and ending the jobs");
    state.sign_ins.drain().await;
    let _ = stop_jobs.send(true);
    for (job, running) in running {
        if tokio::time::timeout(SHUTDOWN_GRACE, running).await.is_err() {
            tracing::warn!(job, "a background job did not finish its pass in time");
        }
    }
    tracing::info!("shut down");
    Ok(())
}
