//! The morning peak's sign-ins, written a batch at a time.
//!
//! Tens of thousands of officers sign in within the same minutes. A durable commit waits for
//! its WAL flush, and PostgreSQL flushes one at a time, so one commit per sign-in from a pool
//! of a few connections spends most of its time queueing for the disk (docs/performance.md).
//! Here a request puts its sign-in on a queue; one writer thread takes whatever has gathered,
//! checks and writes it in one call (`signin::batch::write`: one round trip, one transaction,
//! one flush) and answers each request. While it writes, the next batch gathers, so batches
//! grow with the load and are of one when it is quiet: no timer, no added wait.
//!
//! An error of the call rolls the whole batch back; each sign-in is then written alone, so one
//! bad attempt costs the others nothing.
//!
//! The writer takes a pooled connection per batch, outside the permits of [`db::run`](crate::db::run): at
//! worst a request holding a permit waits the few milliseconds of a batch for its connection.
//!
//! The queue is bounded: when the database falls behind by more than [`CAPACITY`] sign-ins, a
//! request is answered 503 `signin.busy` (with `Retry-After`) at once instead of waiting in a
//! queue that only grows. A sign-in whose request has gone (timed out, or the phone hung up)
//! is dropped unwritten: nobody was told it succeeded, and the phone's resend writes it.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use prometheus::Histogram;
use tokio::sync::{mpsc, oneshot};

use super::attempt::SignInAttempt;
use super::batch::{self, KeyedAttempt, SignInOutcome};
use crate::db::{self, PgPool};
use crate::error::{AppError, ErrorCode};

/// The most sign-ins one call writes (one transaction; the function loops over them).
const MAX_BATCH: usize = 128;

/// The longest a request waits for its answer before a 503, should the database stall. A job
/// still queued by then is dropped; one already being written may still be (a resend with the
/// same key gets its answer).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Sign-ins that may wait for the writer: a fraction of a second of the peak's throughput.
pub const CAPACITY: usize = 4096;

/// Where a sign-in's answer goes.
type Reply = oneshot::Sender<Result<SignInOutcome, AppError>>;

struct Job {
    attempt: KeyedAttempt,
    reply: Reply,
    /// When its request stops waiting.
    deadline: Instant,
}

impl Job {
    /// Whether anyone still waits for this job's answer.
    fn awaited(&self, now: Instant) -> bool {
        !self.reply.is_closed() && now < self.deadline
    }
}

fn answer(reply: Reply, result: Result<SignInOutcome, AppError>) {
    // The request may have gone (the phone hung up); its sign-in stands.
    let _ = reply.send(result);
}

/// What the writer is sent: a sign-in, or the order to finish.
enum Message {
    SignIn(Job),
    /// Take no more sign-ins, write those queued, and stop.
    Drain,
}

pub struct SignInQueue {
    jobs: mpsc::Sender<Message>,
    writer: std::sync::Mutex<Option<thread::JoinHandle<()>>>,
}

impl SignInQueue {
    /// Starts the writer thread; it stops when the queue is dropped. Each batch's size goes
    /// to `batch_sizes`.
    pub fn start(pool: PgPool, batch_sizes: Histogram) -> std::io::Result<Self> {
        let (jobs, mut queued) = mpsc::channel::<Message>(CAPACITY);
        let writer = thread::Builder::new()
            .name("sign-in-writer".into())
            .spawn(move || {
                while let Some(first) = queued.blocking_recv() {
                    let mut messages = vec![first];
                    while messages.len() < MAX_BATCH {
                        match queued.try_recv() {
                            Ok(message) => messages.push(message),
                            Err(_) => break,
                        }
                    }
                    let now = Instant::now();
                    let mut batch = Vec::with_capacity(messages.len());
                    for message in messages {
                        match message {
                            Message::SignIn(job) if job.awaited(now) => batch.push(job),
                            Message::SignIn(_) => {}
                            // New sign-ins are refused from now on; those queued before this
                            // message are still received, and the loop ends after them.
                            Message::Drain => queued.close(),
                        }
                    }
                    if batch.is_empty() {
                        continue;
                    }
                    batch_sizes.observe(batch.len() as f64);
                    // A panic must not stop the writer: its batch's requests get an error (their
                    // answers are dropped) and the next batch is written as usual.
                    if panic::catch_unwind(AssertUnwindSafe(|| write(&pool, batch))).is_err() {
                        tracing::error!("the sign-in writer panicked; its batch was answered with errors");
                    }
                }
            })?;
        Ok(Self {
            jobs,
            writer: std::sync::Mutex::new(Some(writer)),
        })
    }

    /// Stops taking sign-ins and waits until the writer has written every one queued so far
    /// (on SIGTERM, once the HTTP server has stopped: no sign-in in the queue is lost).
    pub async fn drain(&self) {
        let writer = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(writer) = writer else {
            return;
        };
        if self.jobs.send(Message::Drain).await.is_err() {
            return;
        }
        let joined = actix_web::rt::task::spawn_blocking(move || writer.join()).await;
        if !matches!(joined, Ok(Ok(()))) {
            tracing::error!("the sign-in writer did not end cleanly while draining");
        }
    }

    /// Checks and, when it is a plain first sign-in of the day, writes the attempt;
    /// `key` is the request's `Idempotency-Key` and fingerprint.
    pub async fn sign_in(
        &self,
        attempt: Arc<SignInAttempt>,
        key: Option<(String, String)>,
    ) -> Result<SignInOutcome, AppError> {
        let (reply, answered) = oneshot::channel();
        let job = Job {
            attempt: (attempt, key),
            reply,
            deadline: Instant::now() + ANSWER_TIMEOUT,
        };
        self.jobs.try_send(Message::SignIn(job)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => {
                tracing::warn!(capacity = CAPACITY, "sign-in queue full; answering 503");
                AppError::Unavailable {
                    code: ErrorCode::SigninBusy,
                }
            }
            // The server is shutting down: another instance (or this one, restarted) takes it.
            mpsc::error::TrySendError::Closed(_) => AppError::Unavailable {
                code: ErrorCode::SigninBusy,
            },
        })?;
        match tokio::time::timeout(ANSWER_TIMEOUT, answered).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Err(AppError::Internal(anyhow::anyhow!(
                "the sign-in writer dropped a sign-in"
            ))),
            Err(_) => {
                tracing::warn!("no answer from the sign-in writer in time");
                Err(AppError::Unavailable {
                    code: ErrorCode::DatabaseUnavailable,
                })
            }
        }
    }
}

fn write(pool: &PgPool, batch: Vec<Job>) {
    let (attempts, replies): (Vec<KeyedAttempt>, Vec<Reply>) =
        batch.into_iter().map(|job| (job.attempt, job.reply)).unzip();
    let mut conn = match pool.get() {
        Ok(conn) => conn,
        Err(e) => {
            tracing::warn!(error = %e, sign_ins = attempts.len(), "no database connection for a batch of sign-ins");
            for reply in replies {
                let code = ErrorCode::DatabaseUnavailable;
                answer(reply, Err(AppError::Unavailable { code }));
            }
            return;
        }
    };
    let first = batch::write(&mut conn, &attempts).map_err(AppError::from);
    if let Err(e) = &first {
        db::discard_if_lost(&mut conn, e);
        if e.is_database_lost() {
            // The connection is gone: writing each alone on it would only fail again.
            for reply in replies {
                let code = ErrorCode::DatabaseUnavailable;
                answer(reply, Err(AppError::Unavailable { code }));
            }
            return;
        }
    }
    match first {
        Ok(answers) => {
            for (reply, outcome) in replies.into_iter().zip(answers) {
                answer(reply, Ok(outcome));
            }
        }
        Err(e) if attempts.len() == 1 => {
            if let Some(reply) = replies.into_iter().next() {
                answer(reply, Err(e));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, sign_ins = attempts.len(), "a batch of sign-ins failed; writing each alone");
            for (attempt, reply) in attempts.iter().zip(replies) {
                let alone = batch::write(&mut conn, std::slice::from_ref(attempt)).map_err(AppError::from);
                if let Err(e) = &alone {
                    db::discard_if_lost(&mut conn, e);
                }
                let outcome = alone.and_then(|answers| {
                    answers
                        .into_iter()
                        .next()
                        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no answer for a sign-in")))
                });
                answer(reply, outcome);
            }
        }
    }
}
