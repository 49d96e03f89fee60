//! The slim build (no DataFusion) keeps the full build's binding surface: the operations that need
//! a query engine are here and answer UNSUPPORTED_FEATURE, so JS sees a DeltaError, never a
//! missing method.

use std::collections::HashMap;

use napi::bindgen_prelude::Buffer;
use serde_json::Value;

use crate::error::ZError;
use crate::read::NativeBatchStream;
use crate::table::NativeTable;

fn needs_full<T>(what: &str) -> napi::Result<T> {
    Err(ZError::needs_full(what).into())
}

#[napi]
impl NativeTable {
    #[napi]
    pub async fn optimize(
        &self,
        _options: Option<Value>,
        _op: Option<Value>,
    ) -> napi::Result<Value> {
        needs_full("optimize")
    }

    #[napi]
    pub async fn delete(
        &self,
        _predicate: Option<String>,
        _op: Option<Value>,
    ) -> napi::Result<Value> {
        needs_full("delete")
    }

    #[napi]
    pub async fn update(
        &self,
        _set: HashMap<String, String>,
        _predicate: Option<String>,
        _op: Option<Value>,
    ) -> napi::Result<Value> {
        needs_full("update")
    }

    #[napi]
    pub async fn merge(
        &self,
        _source: Buffer,
        _spec: Value,
        _op: Option<Value>,
    ) -> napi::Result<Value> {
        needs_full("merge")
    }

    #[napi]
    pub async fn add_constraint(
        &self,
        _name: String,
        _expression: String,
        _op: Option<Value>,
    ) -> napi::Result<()> {
        needs_full("addConstraint")
    }

    #[napi]
    pub async fn drop_constraint(
        &self,
        _name: String,
        _raise_if_not_exists: bool,
        _op: Option<Value>,
    ) -> napi::Result<()> {
        needs_full("dropConstraint")
    }

    #[napi]
    pub async fn load_cdf(&self, _options: Option<Value>) -> napi::Result<NativeBatchStream> {
        needs_full("loadCdf (change data feed)")
    }
}

#[napi]
pub async fn open_file_source(_path: String, _options: Value) -> napi::Result<NativeBatchStream> {
    needs_full("CSV / NDJSON / Parquet input adapters")
}
