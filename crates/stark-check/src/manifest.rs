//! `starkpkg.json`: a package's name, version, entry file and dependencies
//! (07-Modules-and-Packages.md, PKG-MANIFEST-001).

use serde_json::{Map, Value};

/// A validated manifest.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    /// The canonical package name.
    pub name: String,
    /// The semantic version.
    pub version: String,
    /// The entry file, relative to the package root.
    pub entry: String,
    /// Dependencies in manifest order: (local alias, source).
    pub dependencies: Vec<(String, Dependency)>,
}

/// Where a dependency comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Dependency {
    /// A package in the workspace, by relative path.
    Path(String),
    /// A registry version constraint (not supported yet: no registry).
    Registry(String),
    /// A git origin (not supported yet: no network access at build time).
    Git(String),
}

/// Parses and validates a manifest; the error says what is wrong.
pub fn parse(text: &str) -> Result<Manifest, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let Value::Object(root) = value else {
        return Err("the manifest must be a JSON object".into());
    };
    let name = string_field(&root, "name")?.ok_or("missing required field `name`")?;
    if !valid_package_name(&name) {
        return Err(format!("invalid package name `{name}`: expected [a-z][a-z0-9_-]*, 1 to 64 characters"));
    }
    let version = string_field(&root, "version")?.ok_or("missing required field `version`")?;
    if !valid_version(&version) {
        return Err(format!("invalid version `{version}`: expected MAJOR.MINOR.PATCH"));
    }
    let entry = string_field(&root, "entry")?.unwrap_or_else(|| "src/main.stark".into());
    let dependencies = match root.get("dependencies") {
        None => Vec::new(),
        Some(Value::Object(deps)) => {
            deps.iter().map(|(alias, spec)| dependency(alias, spec)).collect::<Result<_, _>>()?
        }
        Some(_) => return Err("`dependencies` must be an object".into()),
    };
    Ok(Manifest { name, version, entry, dependencies })
}

fn string_field(root: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match root.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{key}` must be a string")),
    }
}

fn dependency(alias: &str, spec: &Value) -> Result<(String, Dependency), String> {
    let ident =
        alias.bytes().enumerate().all(|(i, b)| b == b'_' || b.is_ascii_alphabetic() || (i > 0 && b.is_ascii_digit()));
    if alias.is_empty() || !ident || stark_syntax::lexer::Keyword::from_spelling(alias).is_some() {
        return Err(format!("dependency alias `{alias}` is not a STARK identifier"));
    }
    let source = match spec {
        Value::String(version) => Dependency::Registry(version.clone()),
        Value::Object(obj) => {
            let sources: Vec<_> = ["version", "path", "git"].into_iter().filter(|k| obj.contains_key(*k)).collect();
            if sources.len() != 1 {
                return Err(format!("dependency `{alias}` must have exactly one of `version`, `path`, `git`"));
            }
            let text = string_field(obj, sources[0])?.unwrap_or_default();
            match sources[0] {
                "path" => Dependency::Path(text),
                "git" => Dependency::Git(text),
                _ => Dependency::Registry(text),
            }
        }
        _ => return Err(format!("dependency `{alias}` must be a version string or an object")),
    };
    Ok((alias.to_owned(), source))
}

fn valid_package_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=64).contains(&bytes.len())
        && bytes[0].is_ascii_lowercase()
        && bytes.iter().all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn valid_version(version: &str) -> bool {
    let core = version.split_once('-').map_or(version, |(core, _)| core);
    let parts: Vec<_> = core.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_manifest_with_path_dependencies() {
        let m = parse(r#"{"name": "app", "version": "0.1.0", "dependencies": {"base": {"path": "../base"}}}"#).unwrap();
        assert_eq!(m.entry, "src/main.stark");
        assert_eq!(m.dependencies, vec![("base".into(), Dependency::Path("../base".into()))]);
    }

    #[test]
    fn rejects_bad_manifests() {
        assert!(parse("[]").is_err());
        assert!(parse(r#"{"version": "0.1.0"}"#).unwrap_err().contains("name"));
        assert!(parse(r#"{"name": "App", "version": "0.1.0"}"#).unwrap_err().contains("invalid package name"));
        assert!(parse(r#"{"name": "a", "version": "1.0"}"#).unwrap_err().contains("version"));
        assert!(parse(r#"{"name": "a", "version": "1.0.0", "dependencies": {"fn": "1.0.0"}}"#).is_err());
    }
}
