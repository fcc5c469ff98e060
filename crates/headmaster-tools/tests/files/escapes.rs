//! Escapes through the file system itself: symlinks, hard links and special files.

use std::time::Duration;

use headmaster_tools::files::{FileError, FileKind};
use headmaster_tools::ToolError;
use serde_json::json;

use super::{names_in, Fixture};

fn symlink(path: &str) -> ToolError {
    ToolError::File(FileError::Symlink {
        path: path.to_owned(),
    })
}

#[tokio::test]
async fn a_symlink_to_an_outside_file_is_refused_for_read_write_and_review() {
    let fx = Fixture::new();
    std::os::unix::fs::symlink(fx.outside.join("secret.txt"), fx.root.join("link.txt")).unwrap();
    assert_eq!(
        fx.run("file.read", json!({"path": "link.txt"}))
            .await
            .unwrap_err(),
        symlink("link.txt")
    );
    let write = json!({"path": "link.txt", "content": "overwritten"});
    assert_eq!(
        fx.affected("file.write", write.clone()).await.unwrap_err(),
        symlink("link.txt")
    );
    assert_eq!(
        fx.run("file.write", write).await.unwrap_err(),
        symlink("link.txt")
    );
    assert_eq!(fx.outside_secret(), "outside secret\n");
    assert!(std::fs::symlink_metadata(fx.root.join("link.txt"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        names_in(&fx.root),
        ["link.txt"],
        "no temporary file may remain"
    );
}

#[tokio::test]
async fn a_symlinked_directory_component_is_refused() {
    let fx = Fixture::new();
    std::os::unix::fs::symlink(&fx.outside, fx.root.join("linkdir")).unwrap();
    assert_eq!(
        fx.run("file.read", json!({"path": "linkdir/secret.txt"}))
            .await
            .unwrap_err(),
        symlink("linkdir")
    );
    assert_eq!(
        fx.run(
            "file.write",
            json!({"path": "linkdir/planted.txt", "content": "x"})
        )
        .await
        .unwrap_err(),
        symlink("linkdir")
    );
    assert_eq!(
        fx.run("file.list", json!({"path": "linkdir"}))
            .await
            .unwrap_err(),
        symlink("linkdir")
    );
    assert_eq!(
        names_in(&fx.outside),
        ["secret.txt"],
        "nothing may be created outside"
    );
}

#[tokio::test]
async fn a_symlink_to_a_directory_inside_the_root_is_refused_too() {
    let fx = Fixture::new();
    std::fs::create_dir_all(fx.root.join("real/deeper")).unwrap();
    std::fs::write(fx.root.join("real/deeper/a.txt"), "a").unwrap();
    std::os::unix::fs::symlink(fx.root.join("real"), fx.root.join("real/deeper/alias")).unwrap();
    assert_eq!(
        fx.run(
            "file.read",
            json!({"path": "real/deeper/alias/deeper/a.txt"})
        )
        .await
        .unwrap_err(),
        symlink("real/deeper/alias")
    );
}

#[tokio::test]
async fn a_hard_link_to_an_outside_file_is_refused() {
    let fx = Fixture::new();
    std::fs::hard_link(fx.outside.join("secret.txt"), fx.root.join("hard.txt")).unwrap();
    let expected = ToolError::File(FileError::HardLinked {
        path: "hard.txt".to_owned(),
        links: 2,
    });
    assert_eq!(
        fx.run("file.read", json!({"path": "hard.txt"}))
            .await
            .unwrap_err(),
        expected
    );
    let write = json!({"path": "hard.txt", "content": "overwritten"});
    assert_eq!(
        fx.affected("file.write", write.clone()).await.unwrap_err(),
        expected
    );
    assert_eq!(fx.run("file.write", write).await.unwrap_err(), expected);
    assert_eq!(fx.outside_secret(), "outside secret\n");
}

#[tokio::test]
async fn a_fifo_is_refused_without_blocking() {
    let fx = Fixture::new();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        fx.root.join("pipe").as_path(),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    let expected = ToolError::File(FileError::SpecialFile {
        path: "pipe".to_owned(),
        kind: FileKind::Fifo,
    });
    // Opening a fifo for reading blocks until a writer appears; a hang here is the bug.
    let read = tokio::time::timeout(
        Duration::from_secs(10),
        fx.run("file.read", json!({"path": "pipe"})),
    );
    assert_eq!(
        read.await
            .expect("reading a fifo must not block")
            .unwrap_err(),
        expected
    );
    let write = tokio::time::timeout(
        Duration::from_secs(10),
        fx.run("file.write", json!({"path": "pipe", "content": "x"})),
    );
    assert_eq!(
        write
            .await
            .expect("writing a fifo must not block")
            .unwrap_err(),
        expected
    );
    assert_eq!(names_in(&fx.root), ["pipe"], "no temporary file may remain");
}

#[tokio::test]
async fn a_file_used_as_a_directory_and_a_missing_file_have_their_own_errors() {
    let fx = Fixture::new();
    std::fs::write(fx.root.join("plain.txt"), "x").unwrap();
    assert_eq!(
        fx.run("file.read", json!({"path": "plain.txt/inner"}))
            .await
            .unwrap_err(),
        ToolError::File(FileError::NotADirectory {
            path: "plain.txt".to_owned(),
            kind: FileKind::File
        })
    );
    assert_eq!(
        fx.run("file.read", json!({"path": "missing/inner.txt"}))
            .await
            .unwrap_err(),
        ToolError::File(FileError::NotFound {
            path: "missing".to_owned()
        })
    );
    assert_eq!(
        fx.run(
            "file.write",
            json!({"path": "plain.txt/inner", "content": "x"})
        )
        .await
        .unwrap_err(),
        ToolError::File(FileError::NotADirectory {
            path: "plain.txt".to_owned(),
            kind: FileKind::File
        })
    );
    std::fs::create_dir(fx.root.join("dir")).unwrap();
    assert_eq!(
        fx.run("file.write", json!({"path": "dir", "content": "x"}))
            .await
            .unwrap_err(),
        ToolError::File(FileError::IsADirectory {
            path: "dir".to_owned()
        })
    );
    assert_eq!(
        names_in(&fx.root),
        ["dir", "plain.txt"],
        "no temporary file may remain"
    );
}
