//! System-defined inference profiles: which geography prefix serves a region, and which
//! profile ids make a profile-only model invocable there.

const GEOGRAPHY_PREFIXES: &[&str] = &["us", "eu", "apac", "au", "jp", "ca", "us-gov", "global"];

pub fn is_geography_prefix(prefix: &str) -> bool {
    GEOGRAPHY_PREFIXES.contains(&prefix)
}

/// The system-defined profile prefixes usable from `region`, most specific first
/// (`global` last: it routes anywhere, so prefer the region's own geography).
pub fn prefixes_for_region(region: &str) -> Vec<&'static str> {
    let geography = if region.starts_with("us-gov-") {
        "us-gov"
    } else if region.starts_with("us-") {
        "us"
    } else if region.starts_with("eu-") {
        "eu"
    } else if region.starts_with("ca-") {
        "ca"
    } else if region == "ap-southeast-2" || region == "ap-southeast-4" {
        "au"
    } else if region == "ap-northeast-1" || region == "ap-northeast-3" {
        "jp"
    } else if region.starts_with("ap-") {
        "apac"
    } else {
        return vec!["global"];
    };
    // Australia and Japan also reach the wider APAC profiles.
    match geography {
        "au" | "jp" => vec![geography, "apac", "global"],
        _ => vec![geography, "global"],
    }
}

/// Of the profile ids that exist (`available`), those that invoke `model_id` from `region`:
/// the region's geography profile and the `global.` one, in that order.
pub fn invocable_profiles<'a>(
    model_id: &str,
    region: &str,
    available: impl Fn(&str) -> bool + 'a,
) -> Vec<String> {
    let mut found = Vec::new();
    let prefixes = prefixes_for_region(region);
    for prefix in &prefixes {
        let id = format!("{prefix}.{model_id}");
        if available(&id) {
            // One geography profile is enough; keep global in addition.
            if *prefix == "global" || !found.iter().any(|f: &String| !f.starts_with("global.")) {
                found.push(id);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_map_to_their_geography() {
        assert_eq!(prefixes_for_region("us-west-2"), ["us", "global"]);
        assert_eq!(prefixes_for_region("eu-central-1"), ["eu", "global"]);
        assert_eq!(prefixes_for_region("ap-south-1"), ["apac", "global"]);
        assert_eq!(
            prefixes_for_region("ap-northeast-1"),
            ["jp", "apac", "global"]
        );
        assert_eq!(prefixes_for_region("us-gov-west-1"), ["us-gov", "global"]);
    }

    #[test]
    fn picks_the_geography_profile_and_global() {
        let have = ["us.m", "eu.m", "global.m"];
        let ids = invocable_profiles("m", "us-east-1", |id| have.contains(&id));
        assert_eq!(ids, ["us.m", "global.m"]);
        let ids = invocable_profiles("m", "ap-northeast-1", |id| ["apac.m"].contains(&id));
        assert_eq!(ids, ["apac.m"]);
        assert!(invocable_profiles("m", "eu-west-1", |id| id == "us.m").is_empty());
    }
}
