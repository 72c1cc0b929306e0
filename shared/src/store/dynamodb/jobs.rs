//! Background jobs in the DynamoDB adapter (crate::jobs): one item per job, `JOB#<id>` / `JOB`,
//! holding the job as JSON. It is written in the transaction of the change that makes it; its
//! `INSERT` on the table's stream invokes the `worker` function (template.yaml filters the stream
//! on the `JOB#` prefix); a job that is done deletes its item. Items carry a `ttl` well past any
//! retry, so a dead-lettered job does not stay forever.

use anyhow::anyhow;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};

use super::{DynamoStore, Item, Outcome, PK, TTL, key, n, read_string, s, unavailable_or_unexpected};
use crate::jobs::JobRecord;
use crate::store::StoreError;

/// The partition-key prefix of job items: the worker's stream filter (template.yaml) names it.
pub const JOB_PREFIX: &str = crate::jobs::JOB_KEY_PREFIX;
/// How long a job item is kept at most (DynamoDB Streams keep records 24 hours).
const JOB_RETENTION_SECONDS: i64 = 14 * 24 * 3600;

pub(super) fn job_key(id: &str) -> Item {
    key(format!("{JOB_PREFIX}{id}"), "JOB")
}

impl DynamoStore {
    /// The put of a job item, for the transaction of the change that makes it.
    pub(super) fn put_job(&self, job: &JobRecord) -> Result<TransactWriteItem, StoreError> {
        let mut item = job_key(&job.id);
        item.extend([
            ("job".to_owned(), s(job.to_json()?)),
            (
                TTL.to_owned(),
                n(chrono::Utc::now().timestamp() + JOB_RETENTION_SECONDS),
            ),
        ]);
        self.put(item, "attribute_not_exists(PK)", None)
    }

    pub(super) async fn write_job(&self, job: &JobRecord) -> Result<(), StoreError> {
        match self.transact(vec![self.put_job(job)?]).await? {
            Outcome::Committed => Ok(()),
            Outcome::ConditionFailed(_) => Err(StoreError::Unexpected(anyhow!("job id {} reused", job.id))),
        }
    }

    pub(super) async fn delete_job(&self, id: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(job_key(id)))
            .send()
            .await
            .map_err(|e| unavailable_or_unexpected(e, "DynamoDB DeleteItem (job) failed"))?;
        Ok(())
    }

    /// Deletes job `id` and writes `next`, in one transaction (the old one must still be there:
    /// a retried continuation writes no second job).
    pub(super) async fn swap_job(&self, id: &str, next: &JobRecord) -> Result<(), StoreError> {
        let items = vec![
            self.delete(job_key(id), "attribute_exists(PK)", None)?,
            self.put_job(next)?,
        ];
        match self.transact(items).await? {
            Outcome::Committed | Outcome::ConditionFailed(0) => Ok(()),
            Outcome::ConditionFailed(_) => Err(StoreError::Unexpected(anyhow!("job id {} reused", next.id))),
        }
    }

    /// Every job item, by a filtered scan: only the local server reads this, at its start.
    pub(super) async fn scan_jobs(&self) -> Result<Vec<JobRecord>, StoreError> {
        let mut jobs = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("begins_with(#pk, :prefix)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":prefix", AttributeValue::S(JOB_PREFIX.to_owned()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| unavailable_or_unexpected(e, "DynamoDB Scan (jobs) failed"))?;
            for item in page.items() {
                let record = read_string(item, "job")
                    .and_then(|json| JobRecord::from_json(&json))
                    .map_err(|e| StoreError::Unexpected(e.context("Malformed job item")))?;
                jobs.push(record);
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(jobs);
            }
        }
    }
}
