//! Reads a built ELF binary and checks it can start on Lambda: the right machine, and no glibc symbol version
//! newer than Amazon Linux 2023's 2.34 (a newer one dies at start-up with `GLIBC_2.xx not found`).

use std::path::Path;

use stacks::Architecture;

use super::LAMBDA_GLIBC;
use crate::error::{DeployerError, Result};

const EM_X86_64: u16 = 62;
const EM_AARCH64: u16 = 183;
const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;

/// What a 64-bit little-endian ELF file says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfInfo {
    /// The ELF machine.
    pub architecture: Option<Architecture>,
    /// The newest `GLIBC_x.y` version it needs, if it links glibc dynamically.
    pub max_glibc: Option<(u32, u32)>,
}

/// Parses the ELF header and the version-needs section.
pub fn inspect(bytes: &[u8]) -> Option<ElfInfo> {
    if bytes.get(..4)? != b"\x7fELF" || *bytes.get(4)? != 2 || *bytes.get(5)? != 1 {
        return None;
    }
    let architecture = match u16_at(bytes, 18)? {
        EM_X86_64 => Some(Architecture::X86_64),
        EM_AARCH64 => Some(Architecture::Arm64),
        _ => None,
    };
    let shoff = usize::try_from(u64_at(bytes, 40)?).ok()?;
    let shentsize = usize::from(u16_at(bytes, 58)?);
    let shnum = usize::from(u16_at(bytes, 60)?);
    let section = |index: usize| -> Option<(u32, usize, usize, u32)> {
        let at = shoff.checked_add(index.checked_mul(shentsize)?)?;
        let kind = u32_at(bytes, at + 4)?;
        let offset = usize::try_from(u64_at(bytes, at + 24)?).ok()?;
        let size = usize::try_from(u64_at(bytes, at + 32)?).ok()?;
        let link = u32_at(bytes, at + 40)?;
        Some((kind, offset, size, link))
    };
    let mut max_glibc = None;
    for index in 0..shnum {
        let (kind, offset, _, link) = section(index)?;
        if kind != SHT_GNU_VERNEED {
            continue;
        }
        let (_, strings, strings_size, _) = section(usize::try_from(link).ok()?)?;
        let strtab = bytes.get(strings..strings.checked_add(strings_size)?)?;
        let mut need = offset;
        loop {
            let count = u16_at(bytes, need + 2)?;
            let mut aux = need + usize::try_from(u32_at(bytes, need + 8)?).ok()?;
            for _ in 0..count {
                let name_at = usize::try_from(u32_at(bytes, aux + 8)?).ok()?;
                let name = strtab.get(name_at..)?.split(|b| *b == 0).next()?;
                if let Some(version) = parse_glibc(name) {
                    max_glibc = max_glibc.max(Some(version));
                }
                let next = u32_at(bytes, aux + 12)?;
                if next == 0 {
                    break;
                }
                aux += usize::try_from(next).ok()?;
            }
            let next = u32_at(bytes, need + 12)?;
            if next == 0 {
                break;
            }
            need += usize::try_from(next).ok()?;
        }
    }
    Some(ElfInfo { architecture, max_glibc })
}

fn parse_glibc(name: &[u8]) -> Option<(u32, u32)> {
    let text = std::str::from_utf8(name).ok()?.strip_prefix("GLIBC_")?;
    let mut parts = text.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    Some((major, minor))
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// Fails unless the binary at `path` is an ELF for `arch` needing at most glibc 2.34.
pub(crate) fn check_lambda_binary(path: &Path, arch: Architecture) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| DeployerError::io("read", path, e))?;
    let info = inspect(&bytes).ok_or_else(|| {
        DeployerError::Build(format!("{} is not a 64-bit little-endian ELF executable", path.display()))
    })?;
    if info.architecture != Some(arch) {
        return Err(DeployerError::Build(format!(
            "{} is built for {:?}, not {arch}; this is a build-tool problem: rebuild with `--arch {arch}`",
            path.display(),
            info.architecture
        )));
    }
    if let Some((major, minor)) = info.max_glibc.filter(|v| *v > LAMBDA_GLIBC) {
        return Err(DeployerError::Build(format!(
            "{} needs GLIBC_{major}.{minor}, but provided.al2023 has glibc {}.{}: it would die at start-up; \
             build through `cargo zigbuild --target <triple>.2.34`",
            path.display(),
            LAMBDA_GLIBC.0,
            LAMBDA_GLIBC.1
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn reads_this_test_binary() {
        let exe = std::env::current_exe().unwrap();
        let info = inspect(&std::fs::read(exe).unwrap()).unwrap();
        let expected = if cfg!(target_arch = "x86_64") { Architecture::X86_64 } else { Architecture::Arm64 };
        assert_eq!(info.architecture, Some(expected));
        // The test binary links the host's glibc dynamically, so it needs some GLIBC_2.x.
        assert!(matches!(info.max_glibc, Some((2, _))), "{info:?}");
    }

    #[test]
    fn rejects_non_elf_input() {
        assert_eq!(inspect(b"#!/bin/sh\necho hi\n"), None);
        assert_eq!(inspect(b""), None);
    }

    #[test]
    fn glibc_version_names_parse() {
        assert_eq!(parse_glibc(b"GLIBC_2.34"), Some((2, 34)));
        assert_eq!(parse_glibc(b"GLIBC_2.2.5"), Some((2, 2)));
        assert_eq!(parse_glibc(b"GLIBC_PRIVATE"), None);
        assert_eq!(parse_glibc(b"GCC_3.0"), None);
    }
}
