//! Every `--format json` report the tests read is checked against the shipped JSON
//! Schema (`schema/report.schema.json`), so the schema cannot drift from the output.

use std::sync::OnceLock;

const SCHEMA: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/schema/report.schema.json"
));

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: serde_json::Value =
            serde_json::from_str(SCHEMA).expect("schema/report.schema.json is JSON");
        jsonschema::validator_for(&schema).expect("schema/report.schema.json is a valid schema")
    })
}

/// Panics, naming every violation, when `report` does not match the schema.
pub fn assert_valid_report(report: &serde_json::Value) {
    let errors: Vec<String> = validator()
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "the report does not match schema/report.schema.json:\n  {}\nreport:\n{report:#}",
        errors.join("\n  ")
    );
}
