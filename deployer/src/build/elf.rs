//! Reads a built ELF binary and checks it can start on Lambda: the right machine, and no glibc symbol version
//! newer than Amazon Linux 2023's 2.34 (a newer one dies at start-up with `GLIBC_2.xx not found`).

use std::path::Path;

use constructs::Architecture;

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

    /// A minimal 64-bit little-endian ELF for `machine` whose version-needs section asks libc.so.6 for `glibc`:
    /// the header, a string table, a `SHT_GNU_VERNEED` section, and their section headers.
    fn fixture(machine: u16, glibc: &str) -> Vec<u8> {
        let strings = format!("\0libc.so.6\0{glibc}\0").into_bytes();
        let (file_name, version_name) = (1_u32, 11_u32);
        let mut need = Vec::new();
        need.extend(1_u16.to_le_bytes()); // vn_version
        need.extend(1_u16.to_le_bytes()); // vn_cnt
        need.extend(file_name.to_le_bytes()); // vn_file
        need.extend(16_u32.to_le_bytes()); // vn_aux: the aux entry follows
        need.extend(0_u32.to_le_bytes()); // vn_next
        need.extend(0_u32.to_le_bytes()); // vna_hash
        need.extend(0_u16.to_le_bytes()); // vna_flags
        need.extend(2_u16.to_le_bytes()); // vna_other
        need.extend(version_name.to_le_bytes()); // vna_name
        need.extend(0_u32.to_le_bytes()); // vna_next
        let strings_at = 64_u64;
        let need_at = strings_at + strings.len() as u64;
        let sections_at = need_at + need.len() as u64;
        let mut elf = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0];
        elf.resize(16, 0);
        elf.extend(2_u16.to_le_bytes()); // e_type: executable
        elf.extend(machine.to_le_bytes());
        elf.extend(1_u32.to_le_bytes());
        elf.extend([0; 16]); // e_entry, e_phoff
        elf.extend(sections_at.to_le_bytes()); // e_shoff
        elf.extend([0; 6]); // e_flags, e_ehsize
        elf.extend([0; 4]); // e_phentsize, e_phnum
        elf.extend(64_u16.to_le_bytes()); // e_shentsize
        elf.extend(3_u16.to_le_bytes()); // e_shnum
        elf.extend(1_u16.to_le_bytes()); // e_shstrndx
        assert_eq!(elf.len(), 64);
        elf.extend(&strings);
        elf.extend(&need);
        let header = |kind: u32, offset: u64, size: u64, link: u32| {
            let mut h = Vec::new();
            h.extend(0_u32.to_le_bytes());
            h.extend(kind.to_le_bytes());
            h.extend([0; 16]); // sh_flags, sh_addr
            h.extend(offset.to_le_bytes());
            h.extend(size.to_le_bytes());
            h.extend(link.to_le_bytes());
            h.extend([0; 20]); // sh_info, sh_addralign, sh_entsize
            h
        };
        elf.extend(header(0, 0, 0, 0));
        elf.extend(header(3, strings_at, strings.len() as u64, 0));
        elf.extend(header(SHT_GNU_VERNEED, need_at, need.len() as u64, 1));
        elf
    }

    fn check(bytes: &[u8], arch: Architecture) -> Result<()> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bootstrap");
        std::fs::write(&path, bytes).unwrap();
        check_lambda_binary(&path, arch)
    }

    #[test]
    fn a_binary_for_the_right_machine_and_glibc_is_accepted() {
        let arm = fixture(EM_AARCH64, "GLIBC_2.34");
        assert_eq!(inspect(&arm), Some(ElfInfo { architecture: Some(Architecture::Arm64), max_glibc: Some((2, 34)) }));
        check(&arm, Architecture::Arm64).unwrap();
        check(&fixture(EM_X86_64, "GLIBC_2.17"), Architecture::X86_64).unwrap();
    }

    #[test]
    fn a_binary_for_the_wrong_machine_is_refused() {
        let error = check(&fixture(EM_X86_64, "GLIBC_2.17"), Architecture::Arm64).unwrap_err().to_string();
        assert!(error.contains("X86_64") && error.contains("not arm64"), "{error}");
    }

    #[test]
    fn a_binary_needing_a_glibc_newer_than_al2023_is_refused() {
        let error = check(&fixture(EM_AARCH64, "GLIBC_2.39"), Architecture::Arm64).unwrap_err().to_string();
        assert!(error.contains("needs GLIBC_2.39") && error.contains("2.34"), "{error}");
        let not_elf = check(b"#!/bin/sh\n", Architecture::Arm64).unwrap_err().to_string();
        assert!(not_elf.contains("not a 64-bit little-endian ELF"), "{not_elf}");
    }

    #[test]
    fn glibc_version_names_parse() {
        assert_eq!(parse_glibc(b"GLIBC_2.34"), Some((2, 34)));
        assert_eq!(parse_glibc(b"GLIBC_2.2.5"), Some((2, 2)));
        assert_eq!(parse_glibc(b"GLIBC_PRIVATE"), None);
        assert_eq!(parse_glibc(b"GCC_3.0"), None);
    }
}
