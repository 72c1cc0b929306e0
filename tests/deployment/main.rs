//! Deployment checks, without AWS: template.yaml, the `functions/` crates, `events/` and the route
//! table (`shared::routes`) name the same functions, methods and paths; each function has exactly
//! the permissions and memory it needs; every sample event goes through its handler.

mod authorizer;
mod cfn;
mod events;
mod jobs;
mod keys;
mod openapi;
mod permissions;
mod routes;
mod throttling;

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::path::PathBuf;

/// The workspace root, where template.yaml, `events/` and `functions/` live.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Asserts two sets are equal, naming what each side lacks.
#[track_caller]
pub fn assert_same_set<T: Ord + Debug>(
    left_name: &str,
    left: &BTreeSet<T>,
    right_name: &str,
    right: &BTreeSet<T>,
) {
    let only_left: Vec<_> = left.difference(right).collect();
    let only_right: Vec<_> = right.difference(left).collect();
    assert!(
        only_left.is_empty() && only_right.is_empty(),
        "{left_name} and {right_name} differ\n  only in {left_name}: {only_left:?}\n  only in {right_name}: {only_right:?}"
    );
}
