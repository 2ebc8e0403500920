//! The crate graph points one way: model ← store ← {server, importer}; model ← proto ← server.
//! The model has no I/O dependencies and the importer never depends on the gRPC stack. Read
//! from `cargo metadata`, so a dependency added in the wrong place fails here.

use std::{collections::BTreeMap, process::Command, sync::OnceLock};

use serde_json::Value;

/// The host's target triple, so the resolve covers only what builds here (no other platforms'
/// crates to download).
fn host_triple() -> String {
    let output = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("running rustc -vV");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: ").map(str::to_owned))
        .expect("rustc -vV names the host")
}

/// Each package's normal (non-dev) direct dependencies, by name; computed once per test run.
fn dependency_graph() -> &'static BTreeMap<String, Vec<String>> {
    static GRAPH: OnceLock<BTreeMap<String, Vec<String>>> = OnceLock::new();
    GRAPH.get_or_init(read_dependency_graph)
}

fn read_dependency_graph() -> BTreeMap<String, Vec<String>> {
    let output = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--filter-platform",
            &host_triple(),
        ])
        .current_dir(ansinh_tests::workspace_root())
        .output()
        .expect("running cargo metadata");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata JSON");
    let names: BTreeMap<&str, &str> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let mut direct: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for node in metadata["resolve"]["nodes"].as_array().unwrap() {
        let name = names[node["id"].as_str().unwrap()].to_owned();
        let deps = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|dep| {
                dep["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["kind"].is_null())
            })
            .map(|dep| names[dep["pkg"].as_str().unwrap()].to_owned())
            .collect();
        direct.insert(name, deps);
    }
    direct
}

fn transitive(graph: &BTreeMap<String, Vec<String>>, root: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(name) = stack.pop() {
        for dep in graph.get(&name).into_iter().flatten() {
            if !seen.contains(dep) {
                seen.push(dep.clone());
                stack.push(dep.clone());
            }
        }
    }
    seen
}

fn ours(deps: &[String]) -> Vec<&str> {
    let mut ours: Vec<&str> = deps
        .iter()
        .map(String::as_str)
        .filter(|d| d.starts_with("ansinh-"))
        .collect();
    ours.sort_unstable();
    ours
}

#[test]
fn the_crate_graph_points_one_way() {
    let graph = dependency_graph();
    let direct = |name: &str| ours(&graph[name]);
    assert_eq!(direct("ansinh-model"), Vec::<&str>::new());
    assert_eq!(direct("ansinh-store"), ["ansinh-model"]);
    assert_eq!(direct("ansinh-proto"), ["ansinh-model"]);
    assert_eq!(direct("ansinh-importer"), ["ansinh-model", "ansinh-store"]);
    assert_eq!(
        direct("ansinh-server"),
        ["ansinh-model", "ansinh-proto", "ansinh-store"]
    );
}

#[test]
fn the_model_does_no_io_and_the_importer_has_no_grpc() {
    let graph = dependency_graph();
    let model = transitive(graph, "ansinh-model");
    for forbidden in [
        "tokio",
        "diesel",
        "diesel-async",
        "mysql_async",
        "tonic",
        "prost",
        "hyper",
    ] {
        assert!(
            !model.iter().any(|d| d == forbidden),
            "the model depends on {forbidden}"
        );
    }
    let importer = transitive(graph, "ansinh-importer");
    for forbidden in ["ansinh-proto", "tonic", "prost"] {
        assert!(
            !importer.iter().any(|d| d == forbidden),
            "the importer depends on {forbidden}"
        );
    }
}
