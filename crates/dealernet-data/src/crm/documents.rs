//! Documents on clients and requests, kept behind the `object_store` crate (a local directory
//! by default). The file is written first and its record second, in one transaction with the
//! audit entry; if the record cannot be written the file is removed again, so a failed upload
//! never leaves a record without its file.

use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::crm::{DOCUMENT_CONTENT_TYPES, Document, DocumentCategory};
use dealernet_domain::policy::Actor;
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};
use sha2::{Digest, Sha256};

use super::entity::document;
use super::visible;
use crate::audit::{self, Change};
use crate::context::Ctx;
use crate::error::{Result, ServiceError};

/// Where document files live.
#[derive(Clone)]
pub struct DocumentStore {
    store: Arc<dyn ObjectStore>,
    /// Largest accepted file, in bytes.
    pub max_bytes: usize,
}

impl std::fmt::Debug for DocumentStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DocumentStore({})", self.store)
    }
}

impl DocumentStore {
    /// A store in a local directory (created when missing).
    pub fn local(dir: &std::path::Path, max_bytes: usize) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| ServiceError::Internal(format!("cannot create {}: {e}", dir.display())))?;
        let fs = LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| ServiceError::Internal(format!("document store: {e}")))?;
        Ok(DocumentStore {
            store: Arc::new(fs),
            max_bytes,
        })
    }

    /// Any other `object_store` backend (S3-compatible, in-memory for tests…).
    pub fn with(store: Arc<dyn ObjectStore>, max_bytes: usize) -> Self {
        DocumentStore { store, max_bytes }
    }
}

/// An upload as received.
pub struct Upload {
    pub category: DocumentCategory,
    pub file_name: String,
    pub content_type: String,
    pub bytes: Bytes,
}

fn to_wire(m: document::Model) -> Result<Document> {
    Ok(Document {
        id: m.id,
        category: m
            .category
            .parse()
            .map_err(|_| ServiceError::Internal(format!("document category `{}`", m.category)))?,
        file_name: m.file_name,
        content_type: m.content_type,
        size_bytes: m.size_bytes,
        sha256: m.sha256,
        uploaded_by: m.uploaded_by,
        uploaded_by_name: m.uploaded_by_name,
        uploaded_at: m.uploaded_at,
    })
}

/// Whether the first bytes agree with the declared type (for the types that have a signature).
fn content_matches(content_type: &str, bytes: &[u8]) -> bool {
    match content_type {
        "application/pdf" => bytes.starts_with(b"%PDF-"),
        "image/png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => bytes.starts_with(b"\xff\xd8\xff"),
        "application/zip"
        | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
            bytes.starts_with(b"PK\x03\x04")
        }
        "text/plain" | "text/csv" => std::str::from_utf8(bytes).is_ok(),
        _ => true,
    }
}

/// Checks an upload: non-empty, within the size limit, an accepted and truthful content type,
/// a plain file name.
pub fn check(upload: &Upload, max_bytes: usize) -> Result<()> {
    let mut errors = Vec::new();
    let mut push = |field: &str, code: &str, message: String| {
        errors.push(dealernet_domain::FieldError {
            field: field.into(),
            code: code.into(),
            message,
        })
    };
    if let Err(e) = dealernet_domain::crm::file_name(&upload.file_name) {
        push(
            "file_name",
            "file_name",
            e.message.map(|m| m.to_string()).unwrap_or_default(),
        );
    }
    if upload.bytes.is_empty() {
        push("file", "empty", "the file is empty".into());
    } else if upload.bytes.len() > max_bytes {
        push(
            "file",
            "too_large",
            format!("the file is larger than {max_bytes} bytes"),
        );
    }
    let ct = upload.content_type.as_str();
    if !DOCUMENT_CONTENT_TYPES.contains(&ct) {
        push(
            "content_type",
            "not_accepted",
            format!(
                "`{ct}` is not accepted; send one of {}",
                DOCUMENT_CONTENT_TYPES.join(", ")
            ),
        );
    } else if !upload.bytes.is_empty() && !content_matches(ct, &upload.bytes) {
        push(
            "content_type",
            "mismatch",
            format!("the file's content is not {ct}"),
        );
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Validation(errors))
    }
}

/// Stores a file on a client or a request.
pub async fn upload(
    db: &DatabaseConnection,
    store: &DocumentStore,
    ctx: Ctx<'_>,
    resource: Resource,
    record_id: i64,
    upload: Upload,
) -> Result<Document> {
    let actor = ctx.actor;
    actor.require(Resource::Documents, Action::Create)?;
    visible(db, actor, resource, record_id, Action::View).await?;
    check(&upload, store.max_bytes)?;
    let key = format!(
        "{}/{record_id}/{}",
        resource.as_str(),
        uuid::Uuid::new_v4().simple()
    );
    let path = StorePath::from(key.as_str());
    let sha = hex::encode(Sha256::digest(&upload.bytes));
    let size = i64::try_from(upload.bytes.len()).unwrap_or(i64::MAX);
    store
        .store
        .put(&path, upload.bytes.clone().into())
        .await
        .map_err(|e| ServiceError::Internal(format!("storing a document: {e}")))?;
    let written = async {
        let txn = db.begin().await?;
        let located = visible(&txn, actor, resource, record_id, Action::View).await?;
        let m = document::ActiveModel {
            resource: Set(resource.as_str().to_string()),
            record_id: Set(record_id),
            category: Set(upload.category.as_str().to_string()),
            file_name: Set(upload.file_name.trim().to_string()),
            content_type: Set(upload.content_type.clone()),
            size_bytes: Set(size),
            storage_key: Set(key.clone()),
            sha256: Set(sha.clone()),
            uploaded_by: Set(actor.user_id),
            uploaded_by_name: Set(actor.name.clone()),
            uploaded_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        audit::record(
            &txn,
            ctx,
            Change {
                action: "upload_document",
                entity: resource,
                entity_id: record_id,
                org_id: Some(located.org_id),
                responsible_id: located.responsible_id,
                before: None,
                after: Some(serde_json::json!({
                    "document_id": m.id, "category": m.category, "file_name": m.file_name,
                    "size_bytes": m.size_bytes, "sha256": m.sha256,
                })),
            },
        )
        .await?;
        txn.commit().await?;
        Ok::<_, ServiceError>(m)
    }
    .await;
    match written {
        Ok(m) => to_wire(m),
        Err(e) => {
            if let Err(del) = store.store.delete(&path).await {
                tracing::warn!(key = %key, error = %del, "could not remove the file of a failed upload");
            }
            Err(e)
        }
    }
}

/// The documents of a client or a request, newest first.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    resource: Resource,
    record_id: i64,
) -> Result<Vec<Document>> {
    actor.require(Resource::Documents, Action::View)?;
    visible(db, actor, resource, record_id, Action::View).await?;
    document::Entity::find()
        .filter(document::Column::Resource.eq(resource.as_str()))
        .filter(document::Column::RecordId.eq(record_id))
        .order_by_desc(document::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_wire)
        .collect()
}

async fn load_visible(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    action: Action,
) -> Result<(
    document::Model,
    Resource,
    crate::notifications::targets::Located,
)> {
    let m = document::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let resource: Resource = m
        .resource
        .parse()
        .map_err(|_| ServiceError::Internal(format!("document resource `{}`", m.resource)))?;
    let located = visible(db, actor, resource, m.record_id, Action::View).await?;
    actor.require(Resource::Documents, action)?;
    Ok((m, resource, located))
}

/// A document's record and content.
pub async fn download(
    db: &DatabaseConnection,
    store: &DocumentStore,
    actor: &Actor,
    id: i64,
) -> Result<(Document, Bytes)> {
    let (m, _, _) = load_visible(db, actor, id, Action::View).await?;
    let path = StorePath::from(m.storage_key.as_str());
    let bytes = store
        .store
        .get(&path)
        .await
        .map_err(|e| ServiceError::Internal(format!("reading document {id}: {e}")))?
        .bytes()
        .await
        .map_err(|e| ServiceError::Internal(format!("reading document {id}: {e}")))?;
    Ok((to_wire(m)?, bytes))
}

/// Deletes a document (record first, with its audit entry; then the file).
pub async fn delete(
    db: &DatabaseConnection,
    store: &DocumentStore,
    ctx: Ctx<'_>,
    id: i64,
) -> Result<()> {
    let (m, resource, located) = load_visible(db, ctx.actor, id, Action::Delete).await?;
    let txn = db.begin().await?;
    let res = document::Entity::delete_by_id(id).exec(&txn).await?;
    if res.rows_affected != 1 {
        return Err(ServiceError::NotFound);
    }
    audit::record(
        &txn,
        ctx,
        Change {
            action: "delete_document",
            entity: resource,
            entity_id: m.record_id,
            org_id: Some(located.org_id),
            responsible_id: located.responsible_id,
            before: Some(serde_json::json!({
                "document_id": m.id, "category": m.category, "file_name": m.file_name,
                "size_bytes": m.size_bytes, "sha256": m.sha256,
            })),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    let path = StorePath::from(m.storage_key.as_str());
    if let Err(e) = store.store.delete(&path).await {
        tracing::warn!(key = %m.storage_key, error = %e, "could not remove a deleted document's file");
    }
    Ok(())
}
