use super::*;
use tfplugin::schema::Nesting;

#[test]
fn schema_parts_follow_the_options() {
    let plain = TaskSpecSchema::new("release task").add_to(Block::new("r"));
    let names: Vec<&str> = plain.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["command_line", "environment"]);
    let blocks: Vec<&str> = plain.blocks.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(blocks, ["container"]);
    assert!(plain.blocks.iter().all(|b| !b.requires_replace));

    let full = TaskSpecSchema::new("task")
        .resource_files()
        .user_identity()
        .constraints(" Changes apply in place.")
        .requires_replace()
        .add_to(Block::new("t"));
    let blocks: Vec<(&str, Nesting, bool)> = full
        .blocks
        .iter()
        .map(|b| (b.name.as_str(), b.nesting, b.requires_replace))
        .collect();
    assert_eq!(
        blocks,
        [
            ("container", Nesting::Single, true),
            ("resource_file", Nesting::List, true),
            ("constraints", Nesting::Single, false),
            ("user_identity", Nesting::Single, true),
        ]
    );
    assert!(full.attributes.iter().all(|a| a.is_requires_replace()));
    let c = full.nested("constraints").unwrap();
    assert!(c.block.description.ends_with("Changes apply in place."));
}

#[test]
fn replaced_attributes_are_used() {
    let b = TaskSpecSchema::new("start task")
        .command_line(
            Attribute::string("command_line")
                .optional()
                .description("x"),
        )
        .add_to(Block::new("s"));
    let a = b.attribute("command_line").unwrap();
    assert!(a.optional && !a.required);
    assert_eq!(a.description, "x");
    let env = b.attribute("environment").unwrap();
    assert!(
        env.description.contains("start task"),
        "{}",
        env.description
    );
}

#[test]
fn declared_rules_cover_every_part() {
    let block = TaskSpecSchema::new("task")
        .resource_files()
        .user_identity()
        .add_to(Block::new("t"));
    #[derive(serde::Serialize)]
    struct Spec {
        command_line: String,
        user_identity: Option<UserIdentityModel>,
        resource_file: Vec<ResourceFileModel>,
    }
    let spec = Spec {
        command_line: "x".into(),
        user_identity: Some(UserIdentityModel::default()),
        resource_file: vec![ResourceFileModel::default()],
    };
    let v = tfplugin::model::to_value(&spec, &block.value_type()).unwrap();
    let path = AttrPath::root().child("job_manager_task");
    let errors = config_errors(&block, &v, &path);
    // An empty user identity and a resource file without a source, each at its block.
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("job_manager_task.user_identity.user_name"))
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("job_manager_task.resource_file[0].http_url"))
    );
}
