//! Issue #14: the gateway is a host of the contract like any other: it reaches the models
//! through host-sdk alone, and no AWS SDK is compiled into it (with or without the embedded
//! emulator of its default feature).

use std::process::Command;

fn normal_dependencies(extra: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "-p", "gateway", "-e", "normal", "--prefix", "none"])
        .args(extra)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn no_aws_sdk_is_compiled_into_the_gateway() {
    for features in [&[][..], &["--no-default-features"][..]] {
        let tree = normal_dependencies(features);
        assert!(tree.contains("host-sdk"), "{tree}");
        for absent in ["aws-sdk-", "aws-config", "bedrock-plugin"] {
            assert!(
                !tree.contains(absent),
                "{absent} is compiled in ({features:?}):\n{tree}"
            );
        }
    }
    assert!(!normal_dependencies(&["--no-default-features"]).contains("emulator v"));
}
