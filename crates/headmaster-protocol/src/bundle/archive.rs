//! The `.tar.gz` form of a bundle.
//!
//! Packing puts the seven files under one directory named after the archive, so
//! `tar xzf audit.tar.gz && cd audit && sha256sum -c SHA256SUMS` works. Unpacking for
//! verification accepts only regular files, at most one directory deep, with plain names: an
//! archive cannot write outside the scratch directory, and anything unexpected is reported.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Component, Path, PathBuf};

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;

use super::{io_error, BundleError, ALL_FILES};

/// True when `path` names a gzip-compressed tar archive.
pub(crate) fn is_tar_gz(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name.ends_with(".tar.gz") || name.ends_with(".tgz")
}

/// Packs the bundle files of `dir` into `target`, through a temporary file that is renamed into
/// place when complete.
pub(crate) fn pack(dir: &Path, target: &Path) -> Result<(), BundleError> {
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("bundle");
    let stem = name
        .strip_suffix(".tar.gz")
        .or_else(|| name.strip_suffix(".tgz"))
        .unwrap_or(name);
    let parent = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let partial = tempfile::Builder::new()
        .prefix(".headmaster-bundle-")
        .suffix(".tar.gz")
        .tempfile_in(parent)
        .map_err(io_error("creating a temporary archive in", parent))?;
    let gz = GzEncoder::new(BufWriter::new(partial.as_file()), Compression::default());
    let mut tar = tar::Builder::new(gz);
    for file in ALL_FILES {
        let path = dir.join(file);
        tar.append_path_with_name(&path, Path::new(stem).join(file))
            .map_err(io_error("adding to the archive", &path))?;
    }
    let gz = tar
        .into_inner()
        .map_err(io_error("finishing the archive", target))?;
    let out = gz.finish().map_err(io_error("compressing", target))?;
    drop(out);
    partial
        .as_file()
        .sync_all()
        .map_err(io_error("syncing", target))?;
    partial.persist(target).map_err(|e| BundleError::Io {
        action: "moving the archive to",
        path: target.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}

/// An archive entry that was not unpacked, and why.
#[derive(Debug)]
pub(crate) struct Skipped {
    pub(crate) entry: String,
    pub(crate) why: String,
}

/// Unpacks the regular files of `archive` into `into` (flattening one leading directory) and
/// returns the entries it refused.
pub(crate) fn unpack(archive: &Path, into: &Path) -> Result<Vec<Skipped>, BundleError> {
    let file = File::open(archive).map_err(io_error("opening", archive))?;
    let mut tar = tar::Archive::new(GzDecoder::new(file));
    let mut skipped = Vec::new();
    let mut prefix: Option<PathBuf> = None;
    let entries = tar.entries().map_err(io_error("reading", archive))?;
    for entry in entries {
        let mut entry = entry.map_err(io_error("reading", archive))?;
        let path = entry
            .path()
            .map_err(io_error("reading", archive))?
            .into_owned();
        let shown = path.display().to_string();
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        if !kind.is_file() {
            skipped.push(Skipped {
                entry: shown,
                why: "is not a regular file".into(),
            });
            continue;
        }
        let Some((dir, name)) = split_entry(&path) else {
            skipped.push(Skipped {
                entry: shown,
                why: "is not a plain file name at most one directory deep".into(),
            });
            continue;
        };
        if prefix.get_or_insert_with(|| dir.clone()) != &dir {
            skipped.push(Skipped {
                entry: shown,
                why: "lies outside the bundle's directory".into(),
            });
            continue;
        }
        let out = into.join(&name);
        if out.exists() {
            skipped.push(Skipped {
                entry: shown,
                why: "appears twice in the archive".into(),
            });
            continue;
        }
        entry.unpack(&out).map_err(io_error("unpacking", &out))?;
    }
    Ok(skipped)
}

/// Splits `dir/name` or `name` into its directory (possibly empty) and a plain file name.
fn split_entry(path: &Path) -> Option<(PathBuf, String)> {
    let parts: Vec<&str> = path
        .components()
        .map(|c| match c {
            Component::Normal(part) => part.to_str(),
            Component::CurDir => Some(""),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect();
    match parts.as_slice() {
        [name] => Some((PathBuf::new(), (*name).to_owned())),
        [dir, name] => Some((PathBuf::from(dir), (*name).to_owned())),
        _ => None,
    }
}
