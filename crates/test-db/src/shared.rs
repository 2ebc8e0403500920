//! The throwaway MariaDB that test processes share when no other server is available.
//!
//! nextest runs every test in its own process; a server per process would cost a second and
//! ~30 MB each. Instead the first process to need one starts it in a stable directory (by
//! default `<target dir>/test-mariadb`) and records its port; later processes, serialized by an
//! exclusive `flock` on a lock file, find the port file, check the server answers, and reuse
//! it. The server is started in its own process group and keeps running after the tests, so
//! the next run starts instantly; a server that no longer answers is killed and replaced.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl, SimpleAsyncConnection};

use crate::mariadb::{self, Binaries, Layout};
use crate::server::ThrowawayError;
use crate::url::ServerUrl;

const DIR_VARIABLE: &str = "ANSINH_TEST_MARIADB_DIR";
const PORT_ATTEMPTS: usize = 3;

/// The URL of the shared server, starting it if it is not running.
pub(crate) async fn server_url() -> Result<ServerUrl, ThrowawayError> {
    server_url_in(&shared_dir()).await
}

async fn server_url_in(dir: &Path) -> Result<ServerUrl, ThrowawayError> {
    std::fs::create_dir_all(dir).map_err(|e| ThrowawayError::io(dir, e))?;
    let lock = lock_exclusive(dir.join("lock")).await?;
    let url = ensure_running(dir).await;
    drop(lock);
    let url = url?;
    drop_leaked_databases(&url).await;
    Ok(url)
}

/// `$ANSINH_TEST_MARIADB_DIR`, else `test-mariadb` in the cargo target directory this test
/// binary was built into (`target/<profile>/deps/<test>`), so `cargo clean` removes it.
fn shared_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(DIR_VARIABLE) {
        return PathBuf::from(dir);
    }
    let target_dir = std::env::current_exe().ok().and_then(|exe| {
        let deps = exe
            .ancestors()
            .find(|p| p.file_name() == Some("deps".as_ref()))?;
        Some(deps.parent()?.parent()?.to_owned())
    });
    match target_dir {
        Some(target) => target.join("test-mariadb"),
        None => std::env::temp_dir().join("ansinh-test-mariadb"),
    }
}

/// Blocks (off the async runtime) until this process holds the lock; dropping the file
/// releases it, and so does the process dying.
async fn lock_exclusive(path: PathBuf) -> Result<File, ThrowawayError> {
    tokio::task::spawn_blocking(move || {
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| ThrowawayError::io(&path, e))?;
        rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
            .map_err(|e| ThrowawayError::io(&path, e.into()))?;
        Ok(file)
    })
    .await
    .expect("the lock task does not panic")
}

async fn ensure_running(dir: &Path) -> Result<ServerUrl, ThrowawayError> {
    let port_file = dir.join("port");
    if let Some(port) = std::fs::read_to_string(&port_file)
        .ok()
        .and_then(|text| text.trim().parse::<u16>().ok())
    {
        let url = ServerUrl::local_root(port);
        if mariadb::answers(&url, Duration::from_secs(2)).await {
            return Ok(url);
        }
    }
    let _ = std::fs::remove_file(&port_file);
    let layout = Layout::in_dir(dir);
    // A server from an earlier run that no longer answers still holds InnoDB's lock on the
    // data directory, and a new one would fail to start on it.
    kill_stale_server(&layout).await;

    let binaries = Binaries::find()?;
    let installed_marker = dir.join("installed");
    if !installed_marker.exists() {
        // A half-created data directory (a run killed during install) cannot be repaired.
        match std::fs::remove_dir_all(&layout.data_dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(ThrowawayError::io(&layout.data_dir, e));
            }
            _ => {}
        }
        mariadb::install(&binaries, &layout).await?;
        std::fs::write(&installed_marker, b"")
            .map_err(|e| ThrowawayError::io(&installed_marker, e))?;
    }

    layout.create_tmp_dir()?;
    let mut attempt = 1;
    loop {
        let port = mariadb::free_port().map_err(|e| ThrowawayError::io("127.0.0.1:0", e))?;
        let mut command = mariadb::server_command(&binaries, &layout, port);
        // Its own process group: Ctrl-C in the terminal and nextest killing a timed-out test's
        // group must not take down the server other test processes are using.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command
            .spawn()
            .map_err(|e| ThrowawayError::io(&binaries.server, e))?;
        match mariadb::wait_until_ready(port, &layout, || child.try_wait().ok().flatten()).await {
            Ok(()) => {
                std::fs::write(&port_file, port.to_string())
                    .map_err(|e| ThrowawayError::io(&port_file, e))?;
                // Dropping a std Child neither kills nor waits for it: the server lives on.
                return Ok(ServerUrl::local_root(port));
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                if !(e.is_port_taken() && attempt < PORT_ATTEMPTS) {
                    return Err(e);
                }
                attempt += 1;
            }
        }
    }
}

/// Kills the process named in the pid file if it is a `mariadbd` on this data directory (the
/// pid may have been reused by an unrelated process since), and waits until it is gone.
async fn kill_stale_server(layout: &Layout) {
    let Some(pid) = std::fs::read_to_string(&layout.pid_file)
        .ok()
        .and_then(|text| text.trim().parse::<i32>().ok())
        .and_then(rustix::process::Pid::from_raw)
    else {
        return;
    };
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", pid.as_raw_nonzero()))
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    if !cmdline.contains(&*layout.data_dir.to_string_lossy()) {
        return;
    }
    let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
    for _ in 0..500 {
        if !process_exists(pid) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = std::fs::remove_file(&layout.pid_file);
}

/// Whether `pid` is a live process. EPERM means it exists but belongs to another user; a
/// zombie (a server this very process started and that died unreaped) counts as gone.
fn process_exists(pid: rustix::process::Pid) -> bool {
    if matches!(
        rustix::process::test_kill_process(pid),
        Err(rustix::io::Errno::SRCH)
    ) {
        return false;
    }
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.as_raw_nonzero()));
    // The state letter follows the parenthesised command name: "1234 (mariadbd) Z ...".
    !stat.is_ok_and(|stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z'))
    })
}

#[derive(QueryableByName)]
struct SchemaName {
    #[diesel(sql_type = Text)]
    name: String,
}

/// Drops test databases left behind by test processes that died before their `Drop` ran
/// (killed on timeout, aborted). Only on the shared server, which this harness owns: the
/// process ids in the names are this machine's, which is not true of a `TEST_DATABASE_URL`.
async fn drop_leaked_databases(url: &ServerUrl) {
    let Ok(mut conn) = AsyncMysqlConnection::establish(&url.server()).await else {
        return;
    };
    let Ok(schemas) = diesel::sql_query(
        "SELECT schema_name AS name FROM information_schema.schemata \
         WHERE schema_name LIKE 'ansinh\\_t\\_%'",
    )
    .load::<SchemaName>(&mut conn)
    .await
    else {
        return;
    };
    for SchemaName { name } in schemas {
        let Some(pid) = crate::database::owner_pid(&name) else {
            continue;
        };
        if !rustix::process::Pid::from_raw(pid).is_some_and(process_exists) {
            // `name` matched the harness's own pattern, which is digits and underscores only.
            let _ = conn
                .batch_execute(&format!("DROP DATABASE IF EXISTS `{name}`"))
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    /// Stops the server started in `dir` (as a later run would find it gone) and removes `dir`.
    struct StopOnDrop(PathBuf);

    impl Drop for StopOnDrop {
        fn drop(&mut self) {
            let layout = Layout::in_dir(&self.0);
            if let Some(pid) = std::fs::read_to_string(&layout.pid_file)
                .ok()
                .and_then(|text| text.trim().parse::<i32>().ok())
                .and_then(rustix::process::Pid::from_raw)
            {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
                for _ in 0..1000 {
                    if !process_exists(pid) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_one_server_and_a_dead_one_is_replaced() {
        let dir = std::env::temp_dir().join(format!("ansinh-shared-{}", crate::unique_suffix()));
        let _cleanup = StopOnDrop(dir.clone());

        let started = Instant::now();
        let (a, b) = tokio::join!(server_url_in(&dir), server_url_in(&dir));
        let (a, b) = (a.unwrap(), b.unwrap());
        eprintln!(
            "shared server: install + start took {:?}",
            started.elapsed()
        );
        assert_eq!(a, b, "the second caller must reuse the first one's server");

        let started = Instant::now();
        assert_eq!(server_url_in(&dir).await.unwrap(), a);
        eprintln!("shared server: reuse took {:?}", started.elapsed());

        // A server that died (as after a reboot) leaves a stale port file behind.
        let pid = std::fs::read_to_string(Layout::in_dir(&dir).pid_file).unwrap();
        let pid = rustix::process::Pid::from_raw(pid.trim().parse().unwrap()).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::KILL).unwrap();
        for _ in 0..1000 {
            if !process_exists(pid) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(!process_exists(pid), "SIGKILL did not end the server");
        let started = Instant::now();
        let replaced = server_url_in(&dir).await.unwrap();
        eprintln!(
            "shared server: restart after a crash took {:?}",
            started.elapsed()
        );
        assert!(mariadb::answers(&replaced, Duration::from_secs(2)).await);
    }
}
