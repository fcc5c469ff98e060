//! Wakes the workers when a workspace database is written, and the sync worker when the
//! instance database is (its chain may have grown: sign-ins, members, keys). Another process (the CLI, a second
//! app on the same data directory) reaches this app only through the database; SQLite appends
//! every commit to the database's write-ahead log (`<id>.db-wal`), so a file-system watch on the
//! `workspaces` folder (inotify on Linux) sees each commit at once and at no cost while idle.
//! The workers then read the database as they do on their once-a-second pass; commits made by
//! this process wake them too, which is harmless.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tauri::{AppHandle, Manager, Runtime};

use crate::state::AppState;

/// At most one wake-up per this interval: a burst of commits (a run's steps) costs one read.
const SETTLE: Duration = Duration::from_millis(20);

/// Watches `<home>/workspaces` for the life of the app.
pub async fn watch<R: Runtime>(app: AppHandle<R>, home: PathBuf) {
    let folder = home.join("workspaces");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<bool>();
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            // The receiver only goes away with the app.
            if event.paths.iter().any(|p| is_instance_log(p)) {
                let _ = tx.send(false);
            } else if event.paths.iter().any(|p| is_log(p)) {
                let _ = tx.send(true);
            }
        }
    });
    let mut watcher = match watcher {
        Ok(w) => w,
        Err(error) => {
            tracing::warn!(%error, "cannot watch the data directory; other processes' requests are seen once a second");
            return;
        }
    };
    if let Err(error) = watcher.watch(&folder, RecursiveMode::NonRecursive) {
        tracing::warn!(%error, folder = %folder.display(), "cannot watch the workspaces folder; other processes' requests are seen once a second");
        return;
    }
    if let Err(error) = watcher.watch(&home, RecursiveMode::NonRecursive) {
        tracing::warn!(%error, "cannot watch the instance database; its audit events sync on the next tick");
    }
    let state = app.state::<AppState>();
    while let Some(first) = rx.recv().await {
        let mut workspace = first;
        while let Ok(next) = rx.try_recv() {
            workspace |= next;
        }
        if workspace {
            state.signals.approvals.notify_one();
            state.signals.runs.notify_one();
        }
        state.signals.chains.notify_one();
        // Let a burst of commits settle; what arrives meanwhile is drained as one wake-up.
        tokio::time::sleep(SETTLE).await;
    }
    drop(watcher);
}

/// Whether `path` is the instance database or its write-ahead log.
fn is_instance_log(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n == "instance.db-wal" || n == "instance.db")
}

/// Whether `path` is a workspace database or its write-ahead log.
fn is_log(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".db-wal") || n.ends_with(".db"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use headmaster_core::store::Layout;
    use tauri::test::mock_builder;
    use tauri::Manager;

    use super::{is_instance_log, is_log, watch};
    use tokio::sync::Notify;

    use crate::state::{AppState, Signals};

    #[test]
    fn only_database_files_wake_the_workers() {
        assert!(is_log(Path::new("/h/workspaces/0190.db-wal")));
        assert!(is_log(Path::new("/h/workspaces/0190.db")));
        assert!(!is_log(Path::new("/h/workspaces/0190.db-shm")));
        assert!(!is_log(Path::new("/h/workspaces/notes.txt")));
        assert!(is_instance_log(Path::new("/h/instance.db-wal")));
        assert!(!is_instance_log(Path::new("/h/workspaces/0190.db-wal")));
    }

    type Signal = fn(&Signals) -> &Notify;

    /// Writes `file` (under a fresh home) again and again until `wanted` is signalled, within
    /// 10 s (the watch may not be registered yet when the first write lands; nothing else
    /// signals here, so without the watch this waits out the timeout). Then whether `unwanted`
    /// was signalled too, within 300 ms.
    fn writes_wake(file: &str, wanted: Signal, unwanted: Option<Signal>) -> (bool, bool) {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join("workspaces")).unwrap();
        let app = crate::app(mock_builder(), AppState::new(Layout::new(home.path())))
            .build(crate::context())
            .expect("the app builds on the mock runtime");
        let handle = app.handle().clone();
        tauri::async_runtime::spawn(watch(handle.clone(), home.path().to_path_buf()));
        let path = home.path().join(file);
        tauri::async_runtime::block_on(async move {
            let state = handle.state::<AppState>();
            let woken = tokio::time::timeout(Duration::from_secs(10), async {
                let mut n = 0u32;
                loop {
                    n += 1;
                    std::fs::write(&path, n.to_le_bytes()).unwrap();
                    // Wait for the wake-up, or write again after 100 ms; the timeout bounds it.
                    tokio::select! {
                        () = wanted(&state.signals).notified() => return,
                        () = tokio::time::sleep(Duration::from_millis(100)) => {}
                    }
                }
            })
            .await
            .is_ok();
            let also = match unwanted {
                Some(other) => tokio::time::timeout(
                    Duration::from_millis(300),
                    other(&state.signals).notified(),
                )
                .await
                .is_ok(),
                None => false,
            };
            (woken, also)
        })
    }

    #[test]
    fn a_write_to_the_instance_log_wakes_the_sync_worker_only() {
        let (synced, approvals) =
            writes_wake("instance.db-wal", |s| &s.chains, Some(|s| &s.approvals));
        assert!(
            synced,
            "a commit to the instance log did not wake the sync worker"
        );
        assert!(!approvals, "the instance log woke the approval watcher");
    }

    #[test]
    fn a_write_by_another_process_wakes_the_approval_watcher() {
        let (woken, _) = writes_wake("workspaces/0190.db-wal", |s| &s.approvals, None);
        assert!(
            woken,
            "a commit to a workspace log did not wake the approval watcher"
        );
    }
}
