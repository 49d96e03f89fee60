//! `DeltaCoordinator`: commits the files of any number of `DeltaWriter`s as ONE version (or none),
//! idempotent by (appId, appVersion). The checks and the commit are `coordinator.rs`.

use serde_json::Value;

use crate::coordinator::{CommitResult, Coordinator, CoordinatorOptions};
use crate::error::guard;
use crate::options::CommitProperties;

#[napi]
pub struct DeltaCoordinator(Coordinator);

#[napi]
impl DeltaCoordinator {
    #[napi(constructor)]
    pub fn new(uri: String, options: Option<CoordinatorOptions>) -> napi::Result<Self> {
        Ok(Self(Coordinator::new(uri, options)?))
    }

    /// Commit every file of every worker as one new version.
    #[napi]
    pub async fn commit(
        &self,
        files: Vec<Value>,
        options: Option<CommitProperties>,
    ) -> napi::Result<CommitResult> {
        guard(self.0.commit(files, options)).await
    }
}
