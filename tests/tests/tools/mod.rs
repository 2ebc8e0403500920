//! Third-party tools that more than one test target drives, installed under `.tmp/` on first
//! use and reused by later runs: the Python example's virtual environment and buf. Each
//! target uses some of them.
#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use ansinh_tests::{apt_get_install, describe, installed_tool, output_within, workspace_root};

/// Time for creating an environment and installing packages (the Python wheels are about
/// 15 MB, buf about 10 MB).
const INSTALL_LIMIT: Duration = Duration::from_secs(600);

/// `examples/python/`, the Python client.
pub fn python_example_dir() -> PathBuf {
    workspace_root().join("examples/python")
}

/// A virtual environment holding exactly `examples/python/requirements.txt`, made as its
/// README says: `python3 -m venv DIR`, then `DIR/bin/pip install -r requirements.txt`.
pub fn python_venv() -> PathBuf {
    let requirements = std::fs::read_to_string(python_example_dir().join("requirements.txt"))
        .expect("reading examples/python/requirements.txt");
    // The environment records what it was built from, so a changed pin rebuilds it.
    const MARKER: &str = "ansinh-requirements.txt";
    let ready = |dir: &Path| {
        dir.join("bin/python").is_file()
            && std::fs::read_to_string(dir.join(MARKER)).is_ok_and(|text| text == requirements)
    };
    installed_tool("python-client-venv", ready, |dir| {
        let create = || {
            output_within(
                Command::new("python3").args(["-m", "venv"]).arg(dir),
                INSTALL_LIMIT,
            )
        };
        // Debian's python3 lacks venv (and pip) until python3-venv is installed; python3
        // itself may be missing too.
        let created = match Command::new("python3").arg("--version").output() {
            Ok(_) => Some(create()).filter(|output| output.status.success()),
            Err(_) => None,
        };
        if created.is_none() {
            apt_get_install(&["python3", "python3-venv"])?;
            let output = create();
            if !output.status.success() {
                return Err(format!("python3 -m venv failed: {}", describe(&output)));
            }
        }
        let output = output_within(
            Command::new(dir.join("bin/pip"))
                .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
                .arg(python_example_dir().join("requirements.txt")),
            INSTALL_LIMIT,
        );
        if !output.status.success() {
            return Err(format!("pip install failed: {}", describe(&output)));
        }
        std::fs::write(dir.join(MARKER), &requirements).map_err(|e| e.to_string())
    })
}

/// The Python of [`python_venv`].
pub fn python() -> PathBuf {
    python_venv().join("bin/python")
}

/// The directory holding the buf CLI, installed from npm on first use the way
/// `deploy/buf-check.sh` does (into the same `.tmp/buf`).
pub fn buf_bin_dir() -> PathBuf {
    const BIN: &str = "node_modules/.bin";
    let dir = installed_tool(
        "buf",
        |dir| dir.join(BIN).join("buf").is_file(),
        |dir| {
            if Command::new("npm").arg("--version").output().is_err() {
                apt_get_install(&["npm"])?;
            }
            let output = output_within(
                Command::new("npm")
                    .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
                    .arg(dir)
                    .arg("@bufbuild/buf@1"),
                INSTALL_LIMIT,
            );
            if output.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "npm install @bufbuild/buf failed: {}",
                    describe(&output)
                ))
            }
        },
    );
    dir.join(BIN)
}
