//! `DeltaTable.create`: a table with a schema and no data yet, as Python `deltalake`'s
//! `DeltaTable.create` makes it (modes error / ignore / overwrite). A new table is committed by
//! `commit::create_with_files` (no files), so racing creators get COMMIT_CONFLICT as writers do.

use std::collections::HashMap;

use delta_kernel::engine::arrow_conversion::TryIntoKernel as _;
use deltalake::kernel::StructType;
use deltalake::protocol::SaveMode;

use crate::commit::{NewTable, create_builder, create_with_files, creation_error};
use crate::conform::{check_new_partitioning, stored_schema};
use crate::convert;
use crate::error::{Code, ZError, ZResult};
use crate::options::{CommitProperties, check_table_properties, props};
use crate::storage::{self, table_or_new};
use crate::table::Table;

#[napi(object)]
#[derive(Default)]
pub struct CreateOptions {
    pub storage_options: Option<HashMap<String, String>>,
    pub partition_by: Option<Vec<String>>,
    /// 'error' (default: an existing table is INVALID_ARGUMENT), 'ignore' (open it as it is) or
    /// 'overwrite' (replace its schema and metadata; its files leave the snapshot).
    pub mode: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub configuration: Option<HashMap<String, Option<String>>>,
    pub commit_properties: Option<CommitProperties>,
}

/// Create the table at `uri` with the columns of `schema` (an Arrow IPC stream, no batches needed).
pub async fn create(uri: String, schema: &[u8], o: CreateOptions) -> ZResult<Table> {
    let mode = match o.mode.as_deref() {
        None | Some("error") => SaveMode::ErrorIfExists,
        Some("ignore") => SaveMode::Ignore,
        Some("overwrite") => SaveMode::Overwrite,
        Some(other) => {
            return Err(ZError::invalid(format!(
                "create: mode must be 'error', 'ignore' or 'overwrite', got '{other}'"
            )));
        }
    };
    let (arrow_schema, _) = convert::decode_ipc(schema)?;
    // Stored as a write would store it: dictionaries and views as their plain types, unsigned as signed.
    let arrow_schema = stored_schema(&arrow_schema);
    if arrow_schema.fields().is_empty() {
        return Err(ZError::invalid("create: the schema has no columns"));
    }
    let partition_by = o.partition_by.clone().unwrap_or_default();
    check_new_partitioning(&arrow_schema, &partition_by)?;
    if let Some(conf) = &o.configuration {
        check_table_properties(conf.iter().map(|(k, v)| (k.as_str(), v.as_deref())))?;
    }
    let kernel: StructType = arrow_schema
        .as_ref()
        .try_into_kernel()
        .map_err(|e| ZError::new(Code::SchemaMismatch, format!("create: {e}")))?;
    let commit = props(&o.commit_properties)?;
    let storage = storage::storage_options(&uri, o.storage_options.clone());
    let (table, exists) = table_or_new(&uri, &storage).await?;
    let new = NewTable {
        partition_by,
        name: o.name,
        description: o.description,
        configuration: o.configuration,
    };
    let created = match (exists, mode) {
        (true, SaveMode::ErrorIfExists) => {
            return Err(ZError::invalid(format!(
                "{uri}: a table already exists here (mode 'error'; 'ignore' opens it, 'overwrite' replaces it)"
            )));
        }
        (true, SaveMode::Ignore) => table,
        (true, _) => {
            let b = create_builder(&table, &kernel, new)
                .with_commit_properties(commit)
                .with_save_mode(SaveMode::Overwrite);
            match b.await {
                Ok(t) => t,
                Err(e) => return Err(creation_error(&table, e.into()).await.context(&uri)),
            }
        }
        (false, _) => create_with_files(&table, kernel, new, [], commit)
            .await
            .map_err(|e| e.context(&uri))?,
    };
    Ok(Table::from_table(uri, created))
}
