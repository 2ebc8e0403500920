//! The documents against the product, so that they cannot drift from it.
//!
//! Every command block of README.md, docs/*.md, docs/contract/*.md and examples/*/README.md
//! (a fenced `sh` block, or an unlabelled one that starts with a command) is listed below by
//! its file and first line, either in [`RUN`], run by a test here, or in [`SKIPPED`] with the
//! reason it cannot run in a test (Docker, a cluster, nightly Rust, minutes of benchmark). A
//! new block, or one whose first line changed, fails
//! [`every_command_block_is_run_or_skipped_for_a_reason`] until it is listed. The blocks run as
//! written, with bash, against a database and a server of their own; the only changes are the
//! substitutions each test names (the docs' example database URLs and paths, and the server
//! address `127.0.0.1:50051`), and each of those must match the block, so a changed command
//! fails here rather than run something else.
//!
//! The contract in `docs/contract/` is checked against the code: every flag and variable that
//! `--help` prints is in `cli.md` and every flag `cli.md` names exists; every method and
//! request field of the protos is in `api.md`; the default catalog and the columns of every
//! import kind are those of `data-contract.md`.

mod tools;

use std::{
    collections::BTreeSet,
    io::{BufRead, BufReader},
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use ansinh_proto::pb::{self, region_service_client::RegionServiceClient};
use ansinh_tests::{
    ScratchDir, ServerProcess, TestDatabase, binary, describe, free_port, migrated_database,
    output_within, sample_database, stderr, stdout, workspace_root,
};

/// The command blocks the tests below run, by file and first line.
const RUN: &[(&str, &str)] = &[
    ("README.md", "deploy/demo.sh"),
    ("README.md", "deploy/demo.sh --no-serve"),
    (
        "docs/api.md",
        "buf curl --protocol grpc --http2-prior-knowledge \\",
    ),
    (
        "docs/api.md",
        "cargo run --example query -- http://127.0.0.1:50051",
    ),
    (
        "docs/import.md",
        "export DATABASE_URL=mysql://ansinh_migrator:secret@db:3306/ansinh",
    ),
    (
        "docs/import.md",
        "export DATABASE_URL=mysql://ansinh_importer:secret@db:3306/ansinh",
    ),
    ("docs/import.md", "ansinh-import runs --limit 5"),
    (
        "docs/import.md",
        "ansinh-import load --mapping examples/xlsx/lam-dong-2025-05.mapping.json \\",
    ),
    (
        "docs/operations.md",
        "token=$(openssl rand -hex 32)      # give this to the caller, through your secret store",
    ),
    ("examples/python/README.md", "python3 -m venv .venv"),
    (
        "examples/python/README.md",
        ".venv/bin/python client.py --target 127.0.0.1:50051 --period 2025",
    ),
];

const NEEDS_DOCKER: &str = "needs a Docker engine; deploy/validate.sh checks the Dockerfile and \
                            compose.yaml offline";
const NEEDS_CLUSTER: &str = "needs a Kubernetes cluster; deploy/validate.sh validates the \
                             manifests offline";
const NEEDS_NIGHTLY: &str = "needs nightly Rust and cargo-fuzz and runs for minutes; \
                             fuzz/tests replays the corpus on stable in every test run";

/// The command blocks no test runs, by file and first line, and why.
const SKIPPED: &[(&str, &str, &str)] = &[
    (
        "README.md",
        "deploy/test.sh",
        "runs the whole suite, this test included",
    ),
    (
        "docs/benchmarks.md",
        "cargo build --release -p ansinh-importer",
        "a benchmark: a release build and 1,000,000 rows loaded three times, minutes",
    ),
    (
        "docs/benchmarks.md",
        "cargo bench -p ansinh-server --bench serving -- [--seconds 10] [--streams 64] \
         [--connections 2] [--only echo,cached,sql,checked,uncached]",
        "a benchmark: 10,035,000 observations loaded, then minutes of load",
    ),
    (
        "docs/benchmarks.md",
        "cargo bench -p ansinh-server --bench lineage -- [--calls N]",
        "a benchmark in release mode of ConvertRegionCodes over all 10,040 old codes",
    ),
    (
        "docs/fuzzing.md",
        "for target in period number rows; do",
        NEEDS_NIGHTLY,
    ),
    (
        "docs/fuzzing.md",
        "cargo +nightly fuzz cmin TARGET --features libfuzzer -O",
        NEEDS_NIGHTLY,
    ),
    (
        "docs/operations.md",
        "docker build -f deploy/Dockerfile -t ansinh:0.1.0 .",
        NEEDS_DOCKER,
    ),
    (
        "docs/operations.md",
        "docker compose -f deploy/compose.yaml up --build",
        NEEDS_DOCKER,
    ),
    (
        "docs/operations.md",
        "docker compose -f deploy/compose.yaml run --rm -v \
         \"$PWD/incoming:/srv/ansinh/incoming:ro\" sample \\",
        NEEDS_DOCKER,
    ),
    (
        "docs/operations.md",
        "grpcurl -plaintext -d '{\"code\":\"68\",\"as_of\":\"2024-06-01\"}' 127.0.0.1:50051 \
         ansinh.v1.RegionService/GetRegion",
        "needs grpcurl, which the tests do not install, and the Compose stack; docs/api.md's \
         buf curl calls the server the same way, through reflection",
    ),
    (
        "docs/operations.md",
        "kubectl -n ansinh create secret generic ansinh-database \\",
        NEEDS_CLUSTER,
    ),
    (
        "docs/operations.md",
        "kubectl -n ansinh delete job ansinh-migrate --ignore-not-found   \
         # a Job's template is immutable",
        NEEDS_CLUSTER,
    ),
    (
        "docs/operations.md",
        "grpcurl -cacert ca.pem -d '{\"code\":\"68\"}' ansinh.example:50051 \
         ansinh.v1.RegionService/GetRegion",
        "needs grpcurl and a TLS deployment; tests/tests/security.rs checks TLS and mutual TLS",
    ),
    (
        "docs/operations.md",
        "cargo build --workspace --bins",
        "a 20 s soak; deploy/test.sh builds the binaries, and tests/tests/cancellation.rs runs \
         the same soak for a few seconds",
    ),
    (
        "docs/operations.md",
        "ANSINH_DB=ansinh \\",
        "needs an administrator of a MySQL primary; tests/tests/grants.rs runs apply-grants.sh \
         and checks the users it makes",
    ),
    (
        "docs/operations.md",
        "kubectl -n ansinh create job --from=cronjob/ansinh-import-nightly \
         ansinh-import-manual-$(date +%s)",
        NEEDS_CLUSTER,
    ),
];

/// The longest a block may run: building the example client from scratch takes a few minutes
/// on two cores; everything else takes seconds.
const BLOCK_LIMIT: Duration = Duration::from_secs(900);

/// The address the docs give for a local server; tests put their own server's there.
const DOCS_ADDRESS: &str = "127.0.0.1:50051";

/// A command block of a document.
#[derive(Debug, Clone)]
struct Block {
    /// The document, relative to the workspace root.
    file: String,
    /// The line of the opening fence, for messages.
    line: usize,
    /// The commands.
    text: String,
    /// The unlabelled block right after it, with only blank lines between: what it prints.
    output: Option<String>,
}

impl Block {
    fn first_line(&self) -> &str {
        self.text.lines().next().unwrap_or("")
    }
}

/// The documents whose commands are checked.
fn documents() -> Vec<String> {
    let root = workspace_root();
    let mut files = vec!["README.md".to_owned()];
    let mut add_dir = |dir: &str, only: Option<&str>| {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            return;
        };
        let mut found: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let path = entry.path();
                if let Some(name) = only {
                    let file = path.join(name);
                    return file
                        .is_file()
                        .then(|| file.strip_prefix(&root).ok().map(rel));
                }
                (path.extension().is_some_and(|e| e == "md"))
                    .then(|| path.strip_prefix(&root).ok().map(rel))
            })
            .flatten()
            .collect();
        found.sort();
        files.extend(found);
    };
    add_dir("docs", None);
    add_dir("docs/contract", None);
    add_dir("examples", Some("README.md"));
    files
}

fn rel(path: &Path) -> String {
    path.to_str().expect("UTF-8 paths").to_owned()
}

/// Whether an unlabelled block's first line is a command rather than output or a listing.
fn looks_like_a_command(line: &str) -> bool {
    [
        "cargo ", "deploy/", "ansinh-", "target/", "docker ", "kubectl ", "grpcurl ", "buf ",
        "python3 ", ".venv/",
    ]
    .iter()
    .any(|start| line.starts_with(start))
}

/// The command blocks of `file`.
fn blocks_of(file: &str) -> Vec<Block> {
    let text = std::fs::read_to_string(workspace_root().join(file))
        .unwrap_or_else(|e| panic!("reading {file}: {e}"));
    let lines: Vec<&str> = text.lines().collect();
    // Every fenced block: (opening line, closing line, label, body).
    let mut fences = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if let Some(label) = lines[i].strip_prefix("```") {
            let start = i;
            let mut body = Vec::new();
            i += 1;
            while i < lines.len() && lines[i] != "```" {
                body.push(lines[i]);
                i += 1;
            }
            fences.push((start, i, label.trim().to_owned(), body.join("\n")));
        }
        i += 1;
    }
    let mut blocks = Vec::new();
    for (n, (start, end, label, body)) in fences.iter().enumerate() {
        let command = matches!(label.as_str(), "sh" | "bash" | "shell" | "console")
            || (label.is_empty() && looks_like_a_command(body.lines().next().unwrap_or("")));
        if !command {
            continue;
        }
        let output = fences.get(n + 1).and_then(|(next, _, label, body)| {
            let between = &lines[end + 1..*next];
            (label.is_empty() && between.iter().all(|l| l.trim().is_empty())).then(|| body.clone())
        });
        blocks.push(Block {
            file: file.to_owned(),
            line: start + 1,
            text: body.clone(),
            output,
        });
    }
    blocks
}

fn all_blocks() -> Vec<Block> {
    documents().iter().flat_map(|f| blocks_of(f)).collect()
}

/// The block of `file` starting with `first_line`, which must be listed in [`RUN`].
fn block(file: &str, first_line: &str) -> Block {
    assert!(
        RUN.contains(&(file, first_line)),
        "{file}: {first_line:?} is run by a test but not listed in RUN"
    );
    blocks_of(file)
        .into_iter()
        .find(|b| b.first_line() == first_line)
        .unwrap_or_else(|| panic!("{file} has no command block starting {first_line:?}"))
}

/// How a block is run.
struct Shell {
    /// The working directory.
    dir: PathBuf,
    /// Variables set for it, besides PATH (the workspace's binaries come first) and the
    /// environment of the test.
    env: Vec<(String, String)>,
    /// Text replaced in the block before it runs; each must occur in it.
    substitutions: Vec<(String, String)>,
    /// Lines run after the block, for what the test checks next.
    then: Vec<String>,
    /// More directories for PATH.
    path: Vec<PathBuf>,
}

impl Shell {
    fn in_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            env: Vec::new(),
            substitutions: Vec::new(),
            then: Vec::new(),
            path: Vec::new(),
        }
    }

    fn env(mut self, name: &str, value: impl Into<String>) -> Self {
        self.env.push((name.to_owned(), value.into()));
        self
    }

    fn substitute(mut self, from: &str, to: impl Into<String>) -> Self {
        self.substitutions.push((from.to_owned(), to.into()));
        self
    }

    fn then(mut self, line: &str) -> Self {
        self.then.push(line.to_owned());
        self
    }

    fn path(mut self, dir: PathBuf) -> Self {
        self.path.push(dir);
        self
    }

    /// The script the block becomes.
    fn script(&self, block: &Block) -> String {
        let mut script = block.text.clone();
        for (from, to) in &self.substitutions {
            assert!(
                script.contains(from.as_str()),
                "{}:{}: the block no longer contains {from:?}, which the test replaces; \
                 update the test with the document:\n{}",
                block.file,
                block.line,
                block.text
            );
            script = script.replace(from.as_str(), to);
        }
        for line in &self.then {
            script.push('\n');
            script.push_str(line);
        }
        script
    }

    /// `bash` ready to run `block`, which stops at the first failing command.
    fn command(&self, block: &Block) -> Command {
        let mut path: Vec<PathBuf> = vec![binaries_dir()];
        path.extend(self.path.iter().cloned());
        path.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let mut command = Command::new("bash");
        // What cargo sets for a test (not a user's shell) is left out: a cargo run by a block
        // would see another CARGO_MANIFEST_DIR and CARGO_PKG_NAME, which ring's build script
        // watches, and rebuild ring and all that depends on it, then the next build again.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if ["CARGO_MANIFEST_", "CARGO_PKG_", "CARGO_BIN_EXE_"]
                .iter()
                .any(|prefix| name.starts_with(prefix))
                || [
                    "CARGO_CRATE_NAME",
                    "CARGO_TARGET_TMPDIR",
                    "CARGO_PRIMARY_PACKAGE",
                ]
                .contains(&name.as_ref())
                || name == "LD_LIBRARY_PATH"
            {
                command.env_remove(name.as_ref());
            }
        }
        command
            .args(["-e", "-o", "pipefail", "-c"])
            .arg(self.script(block))
            .current_dir(&self.dir)
            .env("PATH", std::env::join_paths(path).expect("a PATH"))
            // As on a fresh machine: nothing asks the binaries for more logging.
            .env_remove("RUST_LOG")
            .env_remove("RUST_LOG_FORMAT")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Runs `block` to the end and requires it to succeed.
    fn run(&self, block: &Block) -> Output {
        let output = output_within(&mut self.command(block), BLOCK_LIMIT);
        assert!(
            output.status.success(),
            "{}:{}: the commands failed:\n{}\n{}",
            block.file,
            block.line,
            self.script(block),
            describe(&output)
        );
        output
    }
}

/// `target/<profile>/`, where the workspace's binaries are.
fn binaries_dir() -> PathBuf {
    binary("ansinh-import")
        .parent()
        .expect("target/<profile>")
        .to_path_buf()
}

/// A line a logger wrote (tracing's text or JSON format) rather than a person's answer.
fn is_log_line(line: &str) -> bool {
    let timestamped = line.len() > 20
        && line.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        && line.as_bytes()[4] == b'-'
        && line.as_bytes()[10] == b'T';
    timestamped
        || line.starts_with("{\"timestamp\"")
        || [" TRACE ", " DEBUG ", " INFO ", " WARN ", " ERROR "]
            .iter()
            .any(|level| line.contains(level))
}

fn assert_no_log_lines(what: &str, text: &str) {
    let logged: Vec<&str> = text.lines().filter(|l| is_log_line(l)).collect();
    assert!(
        logged.is_empty(),
        "{what} holds log lines:\n{}\n--- all of it\n{text}",
        logged.join("\n")
    );
}

#[test]
fn every_command_block_is_run_or_skipped_for_a_reason() {
    let blocks = all_blocks();
    let mut problems = Vec::new();
    for block in &blocks {
        let key = (block.file.as_str(), block.first_line());
        let run = RUN.contains(&key);
        let skipped = SKIPPED.iter().any(|(f, l, _)| (*f, *l) == key);
        match (run, skipped) {
            (false, false) => problems.push(format!(
                "{}:{}: {:?} is neither run nor skipped: add it to RUN (and a test that runs \
                 it) or to SKIPPED with the reason a test cannot run it",
                block.file,
                block.line,
                block.first_line()
            )),
            (true, true) => problems.push(format!(
                "{}:{}: {:?} is both in RUN and SKIPPED",
                block.file,
                block.line,
                block.first_line()
            )),
            _ => {}
        }
    }
    let listed = RUN
        .iter()
        .copied()
        .chain(SKIPPED.iter().map(|(f, l, _)| (*f, *l)));
    for (file, first_line) in listed {
        if !blocks
            .iter()
            .any(|b| b.file == file && b.first_line() == first_line)
        {
            problems.push(format!(
                "{file}: no command block starts with {first_line:?} any more; update the list"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Where the demo puts the server's log, as it prints it.
const DEMO_LOG: &str = ".tmp/demo/server.log";

/// The demo's environment: the test's database server, a database and a port of its own.
fn demo_shell(database: &TestDatabase, listen: &str) -> Shell {
    Shell::in_dir(workspace_root())
        .env("ANSINH_DB_SERVER_URL", database.server_url())
        .env("ANSINH_DEMO_DATABASE", database.name())
        .env("ANSINH_LISTEN", listen)
}

/// Sends `signal` to every process of the group `leader` leads, as a terminal does.
fn signal_group(leader: u32, signal: &str) {
    let group = format!("-{leader}");
    let kill = Command::new("kill")
        .args([&format!("-{signal}"), "--", &group])
        .status()
        .expect("running kill");
    assert!(kill.success(), "kill -{signal} -- {group} failed");
}

#[tokio::test]
async fn the_readme_demo_prints_answers_without_logs_and_stops_when_asked() {
    let database = TestDatabase::new().await;
    let listen = format!("127.0.0.1:{}", free_port());

    // For scripts and CI: the answers, then exit 0 with the server stopped.
    let output =
        demo_shell(&database, &listen).run(&block("README.md", "deploy/demo.sh --no-serve"));
    let out = stdout(&output);
    for answer in [
        "Region 68 as of 2024-06-01: Lâm Đồng (Tỉnh Lâm Đồng), valid 2008-08-01..2025-06-30",
        "HI coverage 2024 in Lâm Đồng: 94.56% against a target of 93.65% -> Met, 0.91 percentage points",
        "HI participants 2025-05-31: 1229935 (-39252 since 2024-12-31)",
    ] {
        assert!(
            out.lines().any(|l| l == answer),
            "the demo did not answer {answer:?}:\n{out}"
        );
    }
    assert_no_log_lines("the demo's stdout", &out);
    assert_no_log_lines("the demo's stderr", &stderr(&output));
    assert!(
        out.contains(DEMO_LOG),
        "the demo names its log file:\n{out}"
    );
    let log = std::fs::read_to_string(workspace_root().join(DEMO_LOG)).expect("the demo's log");
    assert!(
        log.contains("ansinh-server serving"),
        "the server's log is in the file:\n{log}"
    );
    assert!(
        std::net::TcpStream::connect(&listen).is_err(),
        "the server still listens after --no-serve"
    );

    // Serving: runs until Ctrl-C, which reaches the whole process group as from a terminal.
    let demo = block("README.md", "deploy/demo.sh");
    let mut child = demo_shell(&database, &listen)
        .command(&demo)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the demo");
    let lines = |pipe: Box<dyn std::io::Read + Send>, sender: mpsc::Sender<String>| {
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        })
    };
    let (out_sender, out_lines) = mpsc::channel();
    let (err_sender, err_lines) = mpsc::channel();
    let out_reader = lines(Box::new(child.stdout.take().expect("stdout")), out_sender);
    let err_reader = lines(Box::new(child.stderr.take().expect("stderr")), err_sender);
    let deadline = Instant::now() + BLOCK_LIMIT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match out_lines.recv_timeout(left) {
            Ok(line) => {
                let serving = line.contains("keeps running");
                seen.push(line);
                if serving {
                    break;
                }
            }
            Err(_) => {
                signal_group(child.id(), "KILL");
                let status = child.wait().expect("waiting for the demo");
                let _ = err_reader.join();
                let errors: Vec<String> = err_lines.try_iter().collect();
                panic!(
                    "the demo did not start serving ({status}):\n{}\n--- stderr\n{}",
                    seen.join("\n"),
                    errors.join("\n")
                );
            }
        }
    }
    assert!(
        std::net::TcpStream::connect(&listen).is_ok(),
        "the demo says it serves on {listen}, but nothing listens there"
    );
    signal_group(child.id(), "INT");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("polling the demo") {
            break status;
        }
        if Instant::now() > deadline {
            signal_group(child.id(), "KILL");
            panic!("the demo did not stop within 60 s of Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = (out_reader.join(), err_reader.join());
    seen.extend(out_lines.try_iter());
    let errors: Vec<String> = err_lines.try_iter().collect();
    assert_eq!(
        status.code(),
        Some(0),
        "Ctrl-C ends the demo with 0:\n{}\n--- stderr\n{}",
        seen.join("\n"),
        errors.join("\n")
    );
    assert!(
        std::net::TcpStream::connect(&listen).is_err(),
        "the server still listens after Ctrl-C"
    );
    assert_no_log_lines("the serving demo's stdout", &seen.join("\n"));
    assert_no_log_lines("the serving demo's stderr", &errors.join("\n"));
}

#[tokio::test]
async fn the_import_guide_commands_run_as_written() {
    let database = TestDatabase::new().await;
    let url = database.url().to_owned();
    let scratch = ScratchDir::new("docs-import");
    for file in ["observations.csv", "targets.csv"] {
        std::fs::copy(
            workspace_root().join("examples/sample").join(file),
            scratch.0.join(file),
        )
        .expect("copying the sample");
    }
    let file = "docs/import.md";
    let shell = || Shell::in_dir(&scratch.0).env("DATABASE_URL", &url);

    let migrated = shell()
        .substitute("mysql://ansinh_migrator:secret@db:3306/ansinh", &url)
        .run(&block(
            file,
            "export DATABASE_URL=mysql://ansinh_migrator:secret@db:3306/ansinh",
        ));
    assert!(
        stdout(&migrated).contains("reference indicators: 28 inserted"),
        "{}",
        describe(&migrated)
    );

    let summary = scratch.0.join("last-run.json");
    let textfile = scratch.0.join("ansinh_import.prom");
    let loaded = shell()
        .substitute("mysql://ansinh_importer:secret@db:3306/ansinh", &url)
        .substitute("/var/lib/ansinh/last-run.json", rel(&summary))
        .substitute(
            "/var/lib/node_exporter/textfile/ansinh_import.prom",
            rel(&textfile),
        )
        .run(&block(
            file,
            "export DATABASE_URL=mysql://ansinh_importer:secret@db:3306/ansinh",
        ));
    assert!(
        stdout(&loaded).starts_with("run 1: committed — 64 rows"),
        "{}",
        describe(&loaded)
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).expect("the summary"))
            .expect("a JSON summary");
    assert_eq!(summary["status"], "committed", "{summary}");
    let metrics = std::fs::read_to_string(&textfile).expect("the metrics textfile");
    assert!(metrics.contains("ansinh_import_"), "{metrics}");

    let runs = shell().run(&block(file, "ansinh-import runs --limit 5"));
    let listed = stdout(&runs);
    assert!(
        listed.contains("committed") && listed.contains("nightly"),
        "the ledger shows the nightly run:\n{listed}"
    );

    let sheet = Shell::in_dir(workspace_root())
        .env("DATABASE_URL", &url)
        .run(&block(
            file,
            "ansinh-import load --mapping examples/xlsx/lam-dong-2025-05.mapping.json \\",
        ));
    assert!(
        stdout(&sheet).starts_with("run 2: committed"),
        "{}",
        describe(&sheet)
    );

    // The data contract's columns of each kind are the importer's: it lists them when a
    // header holds one that is not.
    let contract = read("docs/contract/data-contract.md");
    let table = section(&contract, "## Import files");
    let mut kinds = 0;
    for row in table_rows(table) {
        let [kind, required, optional] = row.as_slice() else {
            continue;
        };
        if kind == "kind" {
            continue;
        }
        kinds += 1;
        let column_list = |cell: &str| -> Vec<String> {
            let cell = cell.split(" (").next().unwrap_or("");
            cell.split(',')
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty())
                .collect()
        };
        let mut documented = column_list(required);
        documented.extend(column_list(optional));
        let header = format!("{},not_a_column\n", column_list(required).join(","));
        let path = scratch.write(&format!("{kind}.csv"), &header);
        let output = output_within(
            Command::new(binary("ansinh-import"))
                .args(["load", "--dry-run", "--kind", kind, &path])
                .env("DATABASE_URL", &url)
                .env("RUST_LOG", "warn"),
            BLOCK_LIMIT,
        );
        let message = stderr(&output);
        let listed = message
            .lines()
            .find_map(|l| l.split_once("columns are: ").map(|(_, c)| c))
            .unwrap_or_else(|| panic!("no list of columns for {kind}: {}", describe(&output)));
        let listed: Vec<&str> = listed.split(", ").collect();
        assert_eq!(
            listed, documented,
            "data-contract.md's columns of {kind} differ from the importer's"
        );
    }
    assert_eq!(
        kinds, 6,
        "data-contract.md's table of import kinds:\n{table}"
    );
}

#[tokio::test]
async fn the_api_guide_commands_answer_from_a_running_server() {
    let database = sample_database().await;
    let server = ServerProcess::start(database.url(), &[]);
    let file = "docs/api.md";

    let answer = Shell::in_dir(workspace_root())
        .path(tools::buf_bin_dir())
        .substitute(&format!("http://{DOCS_ADDRESS}"), server.endpoint())
        .run(&block(
            file,
            "buf curl --protocol grpc --http2-prior-knowledge \\",
        ));
    let answer: serde_json::Value = serde_json::from_slice(&answer.stdout)
        .unwrap_or_else(|e| panic!("buf curl printed no JSON ({e}): {}", describe(&answer)));
    let lam_dong = &answer["attainments"][0];
    assert_eq!(lam_dong["actual"], "94.56", "{answer}");
    assert_eq!(lam_dong["status"], "ATTAINMENT_STATUS_MET", "{answer}");

    let query = Shell::in_dir(workspace_root())
        .substitute(&format!("http://{DOCS_ADDRESS}"), server.endpoint())
        .run(&block(
            file,
            "cargo run --example query -- http://127.0.0.1:50051",
        ));
    assert!(
        stdout(&query)
            .contains("HI coverage 2024 in Lâm Đồng: 94.56% against a target of 93.65% -> Met"),
        "{}",
        describe(&query)
    );
}

#[tokio::test]
async fn the_python_readme_commands_print_what_it_shows() {
    let database = sample_database().await;
    let server = ServerProcess::start(database.url(), &[]);
    let address = server.address().to_string();
    let file = "examples/python/README.md";
    // The README's first two commands are what tools::python_venv does, into .tmp/ where
    // every test run reuses it; here `.venv` is a link to that environment.
    let scratch = ScratchDir::new("docs-python");
    for name in ["client.py", "requirements.txt"] {
        std::fs::copy(tools::python_example_dir().join(name), scratch.0.join(name))
            .expect("copying the example");
    }
    std::os::unix::fs::symlink(tools::python_venv(), scratch.0.join(".venv"))
        .expect("linking .venv");
    let shell = || {
        Shell::in_dir(&scratch.0)
            .substitute("python3 -m venv .venv\n", "")
            .substitute(".venv/bin/pip install -r requirements.txt\n", "")
            .substitute(DOCS_ADDRESS, &address)
    };
    let first = block(file, "python3 -m venv .venv");
    let second = block(
        file,
        ".venv/bin/python client.py --target 127.0.0.1:50051 --period 2025",
    );
    for (block, shell) in [
        (&first, shell()),
        (
            &second,
            Shell::in_dir(&scratch.0).substitute(DOCS_ADDRESS, &address),
        ),
    ] {
        let output = shell.run(block);
        let shown = block
            .output
            .as_deref()
            .unwrap_or_else(|| panic!("{file}:{}: no output shown after it", block.line));
        assert_eq!(
            stdout(&output).trim_end(),
            shown.trim_end(),
            "{file}:{}: the commands print something else than the README shows",
            block.line
        );
    }
}

#[tokio::test]
async fn the_operations_token_recipe_lets_its_caller_in() {
    let scratch = ScratchDir::new("docs-tokens");
    // The test keeps the token the recipe makes, to call with it.
    Shell::in_dir(&scratch.0)
        .then("printf %s \"$token\" > token")
        .run(&block(
            "docs/operations.md",
            "token=$(openssl rand -hex 32)      # give this to the caller, through your secret store",
        ));
    let tokens = std::fs::read_to_string(scratch.0.join("tokens")).expect("the tokens file");
    let token = std::fs::read_to_string(scratch.0.join("token")).expect("the token");
    let fields: Vec<&str> = tokens.split_whitespace().collect();
    assert!(
        matches!(fields.as_slice(), ["dashboard", "read", hash] if hash.len() == 64),
        "one line NAME SCOPES SHA256: {tokens:?}"
    );

    let database = migrated_database().await;
    let token_file = rel(&scratch.0.join("tokens"));
    let server = ServerProcess::start(
        database.url(),
        &[("ANSINH_TOKEN_FILE", token_file.as_str())],
    );
    let channel = tonic::transport::Channel::from_shared(server.endpoint())
        .expect("an endpoint")
        .connect()
        .await
        .expect("connecting");
    let request = |token: Option<&str>| {
        let mut request = tonic::Request::new(pb::GetRegionRequest {
            code: "68".into(),
            as_of: "2024-06-01".into(),
        });
        if let Some(token) = token {
            request.metadata_mut().insert(
                "authorization",
                format!("Bearer {token}").parse().expect("metadata"),
            );
        }
        request
    };
    let mut regions = RegionServiceClient::new(channel);
    let region = regions
        .get_region(request(Some(&token)))
        .await
        .expect("the recipe's token is let in")
        .into_inner();
    assert_eq!(region.name, "Lâm Đồng");
    let refused = regions
        .get_region(request(None))
        .await
        .expect_err("a call without the token is refused");
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
}

fn read(file: &str) -> String {
    std::fs::read_to_string(workspace_root().join(file))
        .unwrap_or_else(|e| panic!("reading {file}: {e}"))
}

/// The part of `text` from the line `heading` to the next heading of the same level.
fn section<'t>(text: &'t str, heading: &str) -> &'t str {
    let start = text
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("no section {heading:?}"))
        + 1;
    let level = heading.split(' ').next().expect("a heading");
    let rest = &text[start + heading.len()..];
    let end = rest
        .find(&format!("\n{level} "))
        .map_or(text.len(), |i| start + heading.len() + i);
    &text[start..end]
}

/// The cells of every table row in `text`, separator rows left out.
fn table_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("| ---"))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect()
}

/// Every `--flag` named in `text`.
fn flags_in(text: &str) -> BTreeSet<String> {
    let mut flags = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(at) = text[i..].find("--") {
        let start = i + at;
        let mut end = start + 2;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'-') {
            end += 1;
        }
        let before = start.checked_sub(1).map(|b| bytes[b]);
        let named = bytes.get(start + 2).is_some_and(u8::is_ascii_lowercase);
        if named && !before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'-') {
            flags.insert(text[start..end].to_owned());
        }
        i = end.max(start + 2);
    }
    flags
}

/// Every environment variable named `PREFIX...` in `text` (upper case, digits, `_`).
fn variables_in(text: &str, prefix: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

/// What `--help` of a binary or command lists: its flags (from the option lines only, not the
/// descriptions) and the variables they read.
#[derive(Default)]
struct Help {
    flags: BTreeSet<String>,
    variables: BTreeSet<String>,
}

fn help(binary_name: &str, args: &[&str]) -> (Help, String) {
    let output = output_within(
        Command::new(binary(binary_name)).args(args).arg("--help"),
        Duration::from_secs(30),
    );
    assert!(output.status.success(), "{}", describe(&output));
    let text = stdout(&output);
    let mut help = Help::default();
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with('-') {
            let names = line.split("  ").next().unwrap_or("");
            help.flags.extend(flags_in(names));
        }
    }
    let mut rest = text.as_str();
    while let Some(at) = rest.find("[env: ") {
        rest = &rest[at + 6..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        help.variables.insert(rest[..end].to_owned());
    }
    (help, text)
}

#[test]
fn the_cli_contract_lists_every_flag_and_variable_of_help() {
    let contract = read("docs/contract/cli.md");
    let mut problems = Vec::new();

    // ansinh-import and each of its commands.
    let (top, text) = help("ansinh-import", &[]);
    let commands: Vec<String> = text
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|c| c != "help")
        .collect();
    assert!(
        commands.len() >= 3,
        "ansinh-import --help lists its commands:\n{text}"
    );
    let mut import = vec![("ansinh-import --help".to_owned(), top)];
    for command in &commands {
        import.push((
            format!("ansinh-import {command} --help"),
            help("ansinh-import", &[command]).0,
        ));
    }
    let import_section = section(&contract, "## ansinh-import");
    for command in &commands {
        if !import_section.contains(&format!("`ansinh-import {command}")) {
            problems.push(format!(
                "cli.md does not describe `ansinh-import {command}`"
            ));
        }
    }

    let server = vec![(
        "ansinh-server --help".to_owned(),
        help("ansinh-server", &[]).0,
    )];
    let server_section = section(&contract, "## ansinh-server");

    for (section, helps) in [(import_section, &import), (server_section, &server)] {
        let documented_flags = flags_in(section);
        let documented_variables = variables_in(section, "ANSINH_");
        let mut known_flags = BTreeSet::new();
        let mut known_variables = BTreeSet::new();
        for (what, help) in helps {
            for flag in &help.flags {
                if !documented_flags.contains(flag) {
                    problems.push(format!("{what} shows {flag}, which cli.md does not list"));
                }
            }
            for variable in &help.variables {
                let listed = if variable.starts_with("ANSINH_") {
                    documented_variables.contains(variable)
                } else {
                    section.contains(&format!("`{variable}`"))
                };
                if !listed {
                    problems.push(format!(
                        "{what} shows [env: {variable}], which cli.md does not list"
                    ));
                }
            }
            known_flags.extend(help.flags.iter().cloned());
            known_variables.extend(help.variables.iter().cloned());
        }
        let binary = &helps[0].0;
        for flag in documented_flags.difference(&known_flags) {
            problems.push(format!(
                "cli.md lists {flag} under {binary}, which --help does not show"
            ));
        }
        for variable in documented_variables.difference(&known_variables) {
            problems.push(format!(
                "cli.md lists {variable} under {binary}, which --help does not show"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The fields of a proto message body as `[repeated ]type name`.
fn proto_fields(body: &str) -> Vec<String> {
    body.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//") && l.contains(" = ") && l.ends_with(';'))
        .filter_map(|l| l.split(" = ").next().map(str::to_owned))
        .collect()
}

#[test]
fn the_api_contract_lists_every_method_and_request_field() {
    let contract = read("docs/contract/api.md");
    let mut problems = Vec::new();
    let mut requests = std::collections::BTreeMap::new();
    let proto_dir = workspace_root().join("proto/ansinh/v1");
    let mut protos: Vec<PathBuf> = std::fs::read_dir(&proto_dir)
        .expect("proto/ansinh/v1")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "proto"))
        .collect();
    protos.sort();
    let mut methods = 0;
    for proto in protos {
        let text = std::fs::read_to_string(&proto).expect("reading a proto");
        for line in text.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("rpc ") {
                methods += 1;
                let name = rest.split('(').next().unwrap_or(rest);
                if !contract.contains(&format!("`{name}`")) {
                    problems.push(format!("api.md does not describe the method {name}"));
                }
            }
        }
        let mut rest = text.as_str();
        while let Some(at) = rest.find("\nmessage ") {
            rest = &rest[at + 9..];
            let name = rest.split_whitespace().next().unwrap_or("").to_owned();
            let body = &rest[..rest.find("\n}").unwrap_or(rest.len())];
            if name.ends_with("Request") {
                requests.insert(name, proto_fields(body));
            }
        }
    }
    assert!(
        methods >= 14 && requests.len() >= 14,
        "read {methods} methods and {} requests from {}",
        requests.len(),
        proto_dir.display()
    );

    let rows: std::collections::BTreeMap<String, String> =
        table_rows(section(&contract, "## Request fields"))
            .into_iter()
            .filter_map(|row| Some((row.first()?.clone(), row.get(1)?.clone())))
            .filter(|(name, _)| name != "request")
            .collect();
    for (request, fields) in &requests {
        let Some(row) = rows.get(request) else {
            problems.push(format!("api.md's request table has no row for {request}"));
            continue;
        };
        for field in fields {
            if !row.contains(&format!("`{field}`")) {
                problems.push(format!("api.md does not list `{field}` of {request}"));
            }
        }
        // `type name` pairs; other quoted words are prose.
        let documented = row
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|f| f.contains(' '));
        for field in documented {
            if !fields.iter().any(|f| f == field) {
                problems.push(format!(
                    "api.md lists `{field}` in {request}, which the proto does not have"
                ));
            }
        }
    }
    for request in rows.keys() {
        if !requests.contains_key(request) {
            problems.push(format!("api.md lists {request}, which no proto defines"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The fields of one CSV line, with RFC 4180 quotes.
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().expect("a field").push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(String::new()),
            c => fields.last_mut().expect("a field").push(c),
        }
    }
    fields
}

#[test]
fn the_data_contract_lists_the_default_catalog() {
    let contract = read("docs/contract/data-contract.md");
    let catalog = read("crates/store/reference/indicators.csv");
    let mut lines = catalog.lines();
    let header = csv_fields(lines.next().expect("a header"));
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("indicators.csv has no column {name}"))
    };
    let (code, unit, kind) = (column("code"), column("unit"), column("kind"));
    let mut problems = Vec::new();
    let mut codes = 0;
    for line in lines.filter(|l| !l.is_empty()) {
        let fields = csv_fields(line);
        codes += 1;
        let row = format!(
            "| `{}` | {} | {} |",
            fields[code], fields[unit], fields[kind]
        );
        if !contract.lines().any(|l| l.starts_with(&row)) {
            problems.push(format!("data-contract.md has no row starting {row}"));
        }
    }
    let documented = table_rows(section(&contract, "## Indicators"))
        .iter()
        .filter(|row| {
            row.len() == 4 && ["persons", "percent", "vnd", "count"].contains(&row[1].as_str())
        })
        .count();
    if documented != codes {
        problems.push(format!(
            "data-contract.md lists {documented} indicators, the default catalog has {codes}"
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The files of the repository, relative to `root`: those git tracks (work in progress that is
/// not added yet is not the repository's), or without git every file but build output and
/// installed tools.
fn repository_files(root: &Path) -> Vec<String> {
    if let Ok(output) = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "-z"])
        .output()
        && output.status.success()
    {
        return String::from_utf8_lossy(&output.stdout)
            .split('\0')
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect();
    }
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("reading a directory") {
            let path = entry.expect("a directory entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if (name.starts_with('.') && name != ".ci") || name == "target" {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(rel(path.strip_prefix(root).expect("under the root")));
            }
        }
    }
    files
}

#[test]
fn nothing_in_the_repository_points_outside_it_for_the_contract() {
    // Spelt at run time, so that this file does not name them itself.
    let needles = [
        format!("{}/{}", "..", "shared"),
        format!("{}/{}", "shared", "spec"),
    ];
    let root = workspace_root();
    let mut naming = BTreeSet::new();
    for file in repository_files(&root) {
        if let Ok(text) = std::fs::read_to_string(root.join(&file))
            && needles.iter().any(|n| text.contains(n.as_str()))
        {
            naming.insert(file);
        }
    }
    let problems: Vec<String> = naming
        .iter()
        .map(|file| {
            format!(
                "{file} points to the specification outside the repository; point it to \
                 docs/contract/ instead"
            )
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
