//! `file.*` against a real directory tree: escapes through `..`, absolute paths, symlinks (to a
//! file, to a directory, as a directory component), hard links and fifos are refused with their
//! exact errors; size limits hold; writes are atomic and the reviewer's diff is exact.

mod escapes;

use std::path::{Path, PathBuf};

use headmaster_tools::files::{FileConfig, FileScope};
use headmaster_tools::http::{HttpConfig, HttpContext};
use headmaster_tools::{
    AffectedResources, ArgError, CredentialSet, ToolCall, ToolContext, ToolError, ToolOutput,
};
use serde_json::{json, Value};
use tempfile::TempDir;

/// A workspace files folder and, beside it, an "outside" folder the tools must never reach.
struct Fixture {
    _dir: TempDir,
    root: PathBuf,
    outside: PathBuf,
    ctx: ToolContext,
}

impl Fixture {
    fn new() -> Self {
        Fixture::with_config(FileConfig::default())
    }

    fn with_config(config: FileConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("files");
        let outside = dir.path().join("outside");
        std::fs::create_dir(&root).unwrap();
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("secret.txt"), "outside secret\n").unwrap();
        let ctx = ToolContext {
            files: FileScope::new(&root, config),
            http: HttpContext::new(HttpConfig::default()).unwrap(),
            email: None,
        };
        Fixture {
            _dir: dir,
            root,
            outside,
            ctx,
        }
    }

    async fn run(&self, action: &str, args: Value) -> Result<ToolOutput, ToolError> {
        let call = ToolCall::parse(action, &args)?;
        self.ctx.execute(&call, &CredentialSet::new()).await
    }

    async fn affected(&self, action: &str, args: Value) -> Result<AffectedResources, ToolError> {
        let call = ToolCall::parse(action, &args)?;
        self.ctx.affected(&call).await
    }

    fn outside_secret(&self) -> String {
        std::fs::read_to_string(self.outside.join("secret.txt")).unwrap()
    }
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn path_error(problem: &str) -> ToolError {
    ToolError::InvalidArguments(ArgError::new(
        "path",
        problem,
        headmaster_tools::files::PATH_RULE,
    ))
}

#[tokio::test]
async fn write_shows_the_exact_unified_diff_then_replaces_atomically() {
    let fx = Fixture::new();
    std::fs::create_dir(fx.root.join("drafts")).unwrap();
    std::fs::write(
        fx.root.join("drafts/plan.md"),
        "# Plan\nstep one\nstep two\n",
    )
    .unwrap();
    let args =
        json!({"path": "drafts/plan.md", "content": "# Plan\nstep one\nstep 2\nstep three\n"});

    let AffectedResources::FileWrite(affected) =
        fx.affected("file.write", args.clone()).await.unwrap()
    else {
        panic!("a write must describe a file write");
    };
    assert_eq!(affected.path, "drafts/plan.md");
    assert!(affected.exists);
    assert_eq!(affected.old_size, Some(25));
    assert_eq!(affected.new_size, 34);
    assert_eq!(
        affected.diff.as_deref(),
        Some("--- a/drafts/plan.md\n+++ b/drafts/plan.md\n@@ -1,3 +1,4 @@\n # Plan\n step one\n-step two\n+step 2\n+step three\n")
    );
    assert_eq!(affected.summary, None);
    // Describing a write changes nothing.
    assert_eq!(
        std::fs::read_to_string(fx.root.join("drafts/plan.md")).unwrap(),
        "# Plan\nstep one\nstep two\n"
    );

    let ToolOutput::FileWrite(written) = fx.run("file.write", args).await.unwrap() else {
        panic!("a write must return a write receipt");
    };
    assert_eq!((written.size, written.created), (34, false));
    assert_eq!(
        std::fs::read_to_string(fx.root.join("drafts/plan.md")).unwrap(),
        "# Plan\nstep one\nstep 2\nstep three\n"
    );
    assert_eq!(
        names_in(&fx.root.join("drafts")),
        ["plan.md"],
        "no temporary file may remain"
    );
}

#[tokio::test]
async fn new_files_get_parent_folders_and_a_diff_from_nothing() {
    let fx = Fixture::new();
    let args = json!({"path": "a/b/new.txt", "content": "hello\n"});
    let AffectedResources::FileWrite(affected) =
        fx.affected("file.write", args.clone()).await.unwrap()
    else {
        panic!("a write must describe a file write");
    };
    assert_eq!((affected.exists, affected.old_size), (false, None));
    assert_eq!(
        affected.diff.as_deref(),
        Some("--- a/a/b/new.txt\n+++ b/a/b/new.txt\n@@ -0,0 +1 @@\n+hello\n")
    );
    assert!(
        !fx.root.join("a").exists(),
        "describing a write must not create folders"
    );
    let ToolOutput::FileWrite(written) = fx.run("file.write", args).await.unwrap() else {
        panic!("a write must return a write receipt");
    };
    assert!(written.created);
    assert_eq!(
        std::fs::read_to_string(fx.root.join("a/b/new.txt")).unwrap(),
        "hello\n"
    );
    assert_eq!(names_in(&fx.root.join("a/b")), ["new.txt"]);
    assert_eq!(names_in(&fx.root), ["a"]);
}

#[tokio::test]
async fn binary_content_round_trips_as_base64_and_gets_a_summary() {
    let fx = Fixture::new();
    std::fs::write(fx.root.join("blob.bin"), [0u8, 159, 146, 150]).unwrap();
    let args = json!({"path": "blob.bin", "content": "AAECAwQ=", "encoding": "base64"});
    let AffectedResources::FileWrite(affected) =
        fx.affected("file.write", args.clone()).await.unwrap()
    else {
        panic!("a write must describe a file write");
    };
    assert_eq!(affected.diff, None);
    assert_eq!(
        affected.summary.as_deref(),
        Some("binary content: 4 bytes would become 5 bytes; no diff is shown")
    );
    fx.run("file.write", args).await.unwrap();
    let ToolOutput::FileRead(read) = fx
        .run("file.read", json!({"path": "blob.bin"}))
        .await
        .unwrap()
    else {
        panic!("a read must return content");
    };
    assert_eq!(
        serde_json::to_value(&read).unwrap(),
        json!({"path": "blob.bin", "size": 5, "encoding": "base64", "content": "AAECAwQ="})
    );
}

#[tokio::test]
async fn oversize_reads_and_writes_are_refused_with_their_limits() {
    let fx = Fixture::with_config(FileConfig {
        max_read_bytes: 16,
        max_write_bytes: 16,
        ..FileConfig::default()
    });
    std::fs::write(fx.root.join("big.txt"), "x".repeat(17)).unwrap();
    std::fs::write(fx.root.join("ok.txt"), "x".repeat(16)).unwrap();
    assert_eq!(
        fx.run("file.read", json!({"path": "big.txt"}))
            .await
            .unwrap_err(),
        ToolError::File(headmaster_tools::files::FileError::ReadTooLarge {
            path: "big.txt".into(),
            size: 17,
            limit: 16
        })
    );
    assert!(fx.run("file.read", json!({"path": "ok.txt"})).await.is_ok());
    let too_big = json!({"path": "new.txt", "content": "y".repeat(17)});
    let expected = ToolError::File(headmaster_tools::files::FileError::WriteTooLarge {
        path: "new.txt".into(),
        size: 17,
        limit: 16,
    });
    assert_eq!(
        fx.affected("file.write", too_big.clone())
            .await
            .unwrap_err(),
        expected
    );
    assert_eq!(fx.run("file.write", too_big).await.unwrap_err(), expected);
    assert!(!fx.root.join("new.txt").exists());
}

#[tokio::test]
async fn list_reports_kinds_and_sizes_without_following_links() {
    let fx = Fixture::new();
    std::fs::write(fx.root.join("b.txt"), "12345").unwrap();
    std::fs::create_dir(fx.root.join("a-dir")).unwrap();
    std::os::unix::fs::symlink(&fx.outside, fx.root.join("c-link")).unwrap();
    let ToolOutput::FileList(listed) = fx.run("file.list", json!({})).await.unwrap() else {
        panic!("a list must return entries");
    };
    assert_eq!(
        serde_json::to_value(&listed).unwrap(),
        json!({"path": "", "truncated": false, "entries": [
            {"name": "a-dir", "kind": "directory", "size": null},
            {"name": "b.txt", "kind": "file", "size": 5},
            {"name": "c-link", "kind": "symlink", "size": null}
        ]})
    );
}

#[tokio::test]
async fn refused_paths_are_refused_before_the_disk_is_touched() {
    let fx = Fixture::new();
    assert_eq!(
        fx.run("file.read", json!({"path": "../outside/secret.txt"}))
            .await
            .unwrap_err(),
        path_error("has a `..` component")
    );
    assert_eq!(
        fx.run(
            "file.write",
            json!({"path": "docs/../../outside/secret.txt", "content": "x"})
        )
        .await
        .unwrap_err(),
        path_error("has a `..` component")
    );
    let absolute = fx.outside.join("secret.txt").display().to_string();
    assert_eq!(
        fx.run("file.read", json!({"path": absolute}))
            .await
            .unwrap_err(),
        path_error("is an absolute path")
    );
    assert_eq!(
        fx.run("file.write", json!({"path": absolute, "content": "x"}))
            .await
            .unwrap_err(),
        path_error("is an absolute path")
    );
    assert_eq!(
        fx.run("file.list", json!({"path": "/"})).await.unwrap_err(),
        path_error("is an absolute path")
    );
    assert_eq!(fx.outside_secret(), "outside secret\n");
}
