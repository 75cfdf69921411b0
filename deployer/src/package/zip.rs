//! Deterministic zips: the same binary always gives the same bytes, whatever the clock, time zone or umask.
//!
//! Entries are sorted, every timestamp is 1980-01-01 00:00 (the zip epoch), `bootstrap` is mode 0755, the
//! compression method and level are fixed and no extra fields are written: a binary always packs into the same
//! bytes, whose SHA-256 is reported beside the object's name (the fingerprint of its build inputs).

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::error::{DeployerError, Result};

/// A packaged function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PackagedAsset {
    /// The zip on disk.
    pub zip_path: PathBuf,
    /// Lowercase hex SHA-256 of the zip's bytes.
    pub sha256: String,
    /// Size of the zip in bytes.
    pub bytes: u64,
}

/// Zips `(name, contents, mode)` entries deterministically.
pub(crate) fn deterministic_zip(mut entries: Vec<(String, Vec<u8>, u32)>) -> Result<Vec<u8>, std::io::Error> {
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, contents, mode) in entries {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(9))
            .last_modified_time(DateTime::default())
            .unix_permissions(mode)
            .large_file(false);
        writer.start_file(name, options).map_err(std::io::Error::other)?;
        writer.write_all(&contents)?;
    }
    Ok(writer.finish().map_err(std::io::Error::other)?.into_inner())
}

/// Packages the binary at `bootstrap` as the zip `zip_path` with the single entry `bootstrap` (mode 0755).
pub(crate) fn package_bootstrap(bootstrap: &Path, zip_path: &Path) -> Result<PackagedAsset> {
    let contents =
        std::fs::read(bootstrap).map_err(|source| DeployerError::Package { path: bootstrap.into(), source })?;
    let bytes = deterministic_zip(vec![("bootstrap".to_owned(), contents, 0o755)])
        .map_err(|source| DeployerError::Package { path: bootstrap.into(), source })?;
    if let Some(dir) = zip_path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| DeployerError::io("create", dir, e))?;
    }
    write_atomically(zip_path, &bytes)?;
    Ok(PackagedAsset { zip_path: zip_path.to_path_buf(), sha256: sha256_hex(&bytes), bytes: bytes.len() as u64 })
}

/// Lowercase hex SHA-256.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Writes through a temporary file and a rename, so a crash never leaves half a zip behind.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|e| DeployerError::io("write", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| DeployerError::io("write", path, e))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn local_header(bytes: &[u8]) -> (u16, u16, u16, u16) {
        let le = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
        // (method, mod time, mod date, extra length) from the first local file header.
        (le(8), le(10), le(12), le(28))
    }

    #[test]
    fn sha256_matches_the_standard_test_vectors() {
        // FIPS 180-2 examples.
        assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn same_input_same_bytes() {
        let entries = vec![("bootstrap".to_owned(), b"\x7fELF binary".to_vec(), 0o755)];
        let first = deterministic_zip(entries.clone()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let second = deterministic_zip(entries).unwrap();
        assert_eq!(first, second);
    }

    #[test]
    fn entries_are_sorted_whatever_the_input_order() {
        let a = deterministic_zip(vec![("b".into(), vec![1], 0o644), ("a".into(), vec![2], 0o644)]).unwrap();
        let b = deterministic_zip(vec![("a".into(), vec![2], 0o644), ("b".into(), vec![1], 0o644)]).unwrap();
        assert_eq!(a, b);
        let archive = zip::ZipArchive::new(Cursor::new(a)).unwrap();
        assert_eq!(archive.file_names().collect::<Vec<_>>().len(), 2);
        assert_eq!(archive.name_for_index(0), Some("a"));
    }

    #[test]
    fn bootstrap_is_executable_dated_1980_deflated_without_extra_fields() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::write(&bin, vec![42_u8; 4096]).unwrap();
        let asset = package_bootstrap(&bin, &dir.path().join("bootstrap.zip")).unwrap();
        let bytes = std::fs::read(&asset.zip_path).unwrap();
        let (method, mtime, mdate, extra) = local_header(&bytes);
        assert_eq!(method, 8, "deflate");
        assert_eq!(mtime, 0, "00:00:00");
        assert_eq!(mdate, (1 << 5) | 1, "1980-01-01");
        assert_eq!(extra, 0, "no extra fields");
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes.clone())).unwrap();
        let entry = archive.by_index(0).unwrap();
        assert_eq!(entry.name(), "bootstrap");
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
        // The hash checked by another implementation: coreutils' sha256sum of the file.
        let output = std::process::Command::new("sha256sum").arg(&asset.zip_path).output().unwrap();
        let independent = String::from_utf8(output.stdout).unwrap();
        assert_eq!(Some(asset.sha256.as_str()), independent.split_whitespace().next(), "{independent}");
        assert_eq!(asset.bytes, bytes.len() as u64);
    }

    #[test]
    fn the_zip_s_hash_follows_the_binary() {
        let dir = tempfile::tempdir().unwrap();
        let (bin, zip) = (dir.path().join("bin"), dir.path().join("out/b.zip"));
        std::fs::write(&bin, b"one").unwrap();
        let one = package_bootstrap(&bin, &zip).unwrap();
        std::fs::write(&bin, b"three").unwrap();
        let two = package_bootstrap(&bin, &zip).unwrap();
        assert_ne!(one.sha256, two.sha256);
        std::fs::write(&bin, b"one").unwrap();
        assert_eq!(package_bootstrap(&bin, &zip).unwrap(), one, "same binary, same bytes");
    }
}
