//! Prints the JSON Schema of the plan format, as committed in `docs/plan.schema.json`.

fn main() {
    let schema = authkit_sync::render::json::schema();
    println!(
        "{}",
        serde_json::to_string_pretty(&schema).unwrap_or_default()
    );
}
