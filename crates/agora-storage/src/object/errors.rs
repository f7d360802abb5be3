//! How `object_store` and OpenDAL failures map onto [`ErrorKind`](crate::ErrorKind).

use std::io;

use crate::StorageError;

#[cfg(feature = "gcs")]
pub(super) fn map_opendal_err(context: &str, e: &opendal::Error) -> StorageError {
    match e.kind() {
        opendal::ErrorKind::NotFound => StorageError::not_found(format!("{context}: not found")),
        opendal::ErrorKind::AlreadyExists | opendal::ErrorKind::ConditionNotMatch => {
            StorageError::already_exists(format!("{context}: already exists"))
        }
        _ => StorageError::io(context, io::Error::other(e.to_string())),
    }
}

pub(super) enum Class {
    NotFound,
    AlreadyExists,
    /// A conditional write raced another one (S3's 409 `ConditionalRequestConflict`).
    Conflict,
    Unavailable,
}

/// Sorts an `object_store` error into what the caller needs to know. A 404 counts as
/// absence only when it is about the object: S3 answers 404 `NoSuchBucket` for a missing
/// bucket, and that is an outage, not an empty cache.
pub(super) fn classify(e: &object_store::Error) -> Class {
    match e {
        object_store::Error::NotFound { .. } => {
            let chain = error_chain(e);
            // S3 `NoSuchBucket`, Azure `ContainerNotFound`, GCS's JSON API "The specified
            // bucket does not exist." (OpenDAL keeps the error body in its message).
            if chain.contains("NoSuchBucket")
                || chain.contains("ContainerNotFound")
                || chain.contains("bucket does not exist")
            {
                Class::Unavailable
            } else {
                Class::NotFound
            }
        }
        object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. } => {
            Class::AlreadyExists
        }
        _ if error_chain(e).contains("ConditionalRequestConflict") => Class::Conflict,
        _ => Class::Unavailable,
    }
}

pub(super) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

pub(super) fn map_err(context: &str, e: object_store::Error) -> StorageError {
    match classify(&e) {
        Class::NotFound => StorageError::not_found(format!("{context}: not found")),
        Class::AlreadyExists => StorageError::already_exists(format!("{context}: already exists")),
        Class::Conflict | Class::Unavailable => {
            StorageError::io(context, io::Error::other(error_chain(&e)))
        }
    }
}
