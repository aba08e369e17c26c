//! Where attachments' bytes live: an object store chosen by `OBJECT_STORE_URL` — a directory
//! on this machine (the default, `.local/objects`), or any S3-compatible store
//! (`s3://bucket/prefix`, credentials and endpoint from the usual `AWS_*` variables) once
//! several instances share the files. The database keeps what each object is; nothing here is
//! ever served by URL, every download goes through the API and its scope.

use std::sync::Arc;

use actix_web::web::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, PutPayload};

use crate::config::Secret;
use crate::error::{AppError, ErrorCode};

#[derive(Clone)]
pub struct Store {
    inner: Arc<dyn ObjectStore>,
    /// Where it is, for the start-up log (never with credentials: those come from the
    /// environment, not the URL).
    pub describe: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe)
    }
}

impl Store {
    /// The store `url` names: `s3://bucket[/prefix]`, `memory://` (nothing kept past the
    /// process: for trials), `file:///absolute/dir` or a plain directory (created if missing).
    pub fn open(url: &str) -> anyhow::Result<Self> {
        Self::open_with(url, &[])
    }

    /// [`Store::open`], an S3 store configured by the process environment's `AWS_*` and then
    /// by `options` (named as the variables are, e.g. `AWS_ENDPOINT`).
    pub fn open_with(url: &str, options: &[(&str, Secret<String>)]) -> anyhow::Result<Self> {
        let inner: Arc<dyn ObjectStore> = if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
            for (name, value) in options {
                let key: AmazonS3ConfigKey = name.to_ascii_lowercase().parse()?;
                builder = builder.with_config(key, value.expose());
            }
            let s3 = builder.build()?;
            let prefix = prefix.trim_matches('/');
            if prefix.is_empty() {
                Arc::new(s3)
            } else {
                Arc::new(PrefixStore::new(s3, prefix))
            }
        } else if url == "memory://" {
            Arc::new(InMemory::new())
        } else {
            let dir = url.strip_prefix("file://").unwrap_or(url);
            std::fs::create_dir_all(dir)?;
            let dir = std::fs::canonicalize(dir)?;
            Arc::new(LocalFileSystem::new_with_prefix(dir)?)
        };
        Ok(Self {
            inner,
            describe: url.to_owned(),
        })
    }

    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), AppError> {
        self.inner
            .put(&Path::from(key), PutPayload::from(bytes))
            .await
            .map_err(|e| unavailable("writing", key, e))?;
        Ok(())
    }

    /// The object's bytes as a stream; `None` when it is gone.
    pub async fn get(
        &self,
        key: &str,
    ) -> Result<Option<BoxStream<'static, Result<Bytes, AppError>>>, AppError> {
        match self.inner.get(&Path::from(key)).await {
            Ok(found) => {
                let key = key.to_owned();
                Ok(Some(
                    found
                        .into_stream()
                        .map(move |chunk| chunk.map_err(|e| unavailable("reading", &key, e)))
                        .boxed(),
                ))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(unavailable("reading", key, e)),
        }
    }

    /// Deletes the object; one already gone is no error (a retried cleanup).
    pub async fn delete(&self, key: &str) -> Result<(), AppError> {
        match self.inner.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(unavailable("deleting", key, e)),
        }
    }
}

/// A store that fails is a dependency down (a network store's outage, a full disk): 503 with
/// `Retry-After`, the cause logged here because the answer does not carry it.
fn unavailable(doing: &str, key: &str, e: object_store::Error) -> AppError {
    tracing::error!(key, error = %e, "object store: {doing} failed");
    AppError::Unavailable {
        code: ErrorCode::StorageUnavailable,
    }
}
