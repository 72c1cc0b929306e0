//! The background jobs' machinery in template.yaml: the table's stream feeds the worker only job
//! items, with bounded retries, partial-batch answers and a dead-letter queue (shared::jobs).

use serde_json::{Value, json};
use shared::jobs::WORKER_FUNCTION;
use shared::store::dynamodb::jobs::JOB_PREFIX;
use shared::store::dynamodb::schema::STREAM_VIEW_TYPE;

use crate::cfn::Template;

#[test]
fn the_tables_stream_feeds_the_worker_only_new_job_items_with_retries_and_a_dead_letter_queue() {
    let template = Template::load();
    // The emulator tables the adapter creates carry the same stream (ensure_table).
    assert_eq!(
        template.resource("Table")["Properties"]["StreamSpecification"],
        json!({"StreamViewType": STREAM_VIEW_TYPE})
    );

    let worker = template.function(WORKER_FUNCTION);
    let events = worker.properties()["Events"].as_object().expect("Events");
    assert_eq!(events.len(), 1, "the worker has one event source");
    let event = events.values().next().unwrap();
    assert_eq!(event["Type"], "DynamoDB");
    let source = &event["Properties"];
    assert_eq!(source["Stream"], json!({"Fn::GetAtt": ["Table", "StreamArn"]}));
    assert_eq!(
        source["StartingPosition"], "TRIM_HORIZON",
        "no job written before the first poll is skipped"
    );
    assert_eq!(
        source["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    let retries = source["MaximumRetryAttempts"]
        .as_u64()
        .expect("MaximumRetryAttempts");
    assert!((1..=100).contains(&retries), "bounded retries, got {retries}");
    assert_eq!(
        source["DestinationConfig"]["OnFailure"],
        json!({"Type": "SQS", "Destination": {"Fn::GetAtt": ["JobDeadLetterQueue", "Arn"]}})
    );
    assert_eq!(template.resource("JobDeadLetterQueue")["Type"], "AWS::SQS::Queue");

    // The filter lets through exactly the INSERTs of job items.
    let filters = source["FilterCriteria"]["Filters"]
        .as_array()
        .expect("FilterCriteria.Filters");
    assert_eq!(filters.len(), 1);
    let pattern: Value = serde_json::from_str(filters[0]["Pattern"].as_str().expect("a Pattern string"))
        .expect("the Pattern is JSON");
    assert_eq!(
        pattern,
        json!({"eventName": ["INSERT"], "dynamodb": {"Keys": {"PK": {"S": [{"prefix": JOB_PREFIX}]}}}})
    );

    // A purge stops 10 s before the deadline: the timeout leaves it room.
    let timeout = worker.properties()["Timeout"].as_u64().expect("Timeout");
    assert!(timeout >= 60, "the worker's timeout {timeout} s");
}
