//! Media types, digests and real (tiny) layer blobs.
//!
//! Layers are genuine `tar` archives wrapped in genuine gzip (stored deflate blocks, so no
//! compression library is needed): `diff_id` is the sha256 of the tar, `digest` the sha256
//! of the gzip stream, and both decompress with standard tools.

use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const IN_TOTO: &str = "application/vnd.in-toto+json";

/// All four manifest types, for `Accept` headers.
pub const ALL_MANIFEST_TYPES: [&str; 4] = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST];

/// `Accept` header value listing all manifest types.
pub fn accept_all() -> String {
    ALL_MANIFEST_TYPES.join(", ")
}

/// `sha256:<hex>` of `data`.
pub fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// A layer blob and its identities.
#[derive(Clone, Debug)]
pub struct Layer {
    /// The gzip stream (what is pushed).
    pub blob: Vec<u8>,
    /// sha256 of `blob`.
    pub digest: String,
    /// sha256 of the uncompressed tar (the config's `rootfs.diff_ids` entry).
    pub diff_id: String,
    /// Names of the files inside the tar.
    pub files: Vec<String>,
}

impl Layer {
    pub fn size(&self) -> u64 {
        self.blob.len() as u64
    }
}

/// A layer holding one file of `size` pseudo-random bytes derived from `seed` (same seed,
/// same bytes, same digest).
pub fn random_layer(seed: u64, size: usize) -> Layer {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut content = vec![0u8; size];
    rng.fill(&mut content[..]);
    let name = format!("rex/layer-{seed:016x}.bin");
    layer_from_files(&[(name.as_str(), &content)])
}

/// A layer with the given files.
pub fn layer_from_files(files: &[(&str, &[u8])]) -> Layer {
    let tar = tar_archive(files);
    let blob = gzip_stored(&tar);
    Layer {
        digest: sha256_digest(&blob),
        diff_id: sha256_digest(&tar),
        blob,
        files: files.iter().map(|(n, _)| n.to_string()).collect(),
    }
}

/// A ustar archive of regular files.
pub fn tar_archive(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in files {
        let mut header = [0u8; 512];
        let name_bytes = name.as_bytes();
        let n = name_bytes.len().min(100);
        header[..n].copy_from_slice(&name_bytes[..n]);
        write_octal(&mut header[100..108], 0o644);
        write_octal(&mut header[108..116], 0);
        write_octal(&mut header[116..124], 0);
        write_octal(&mut header[124..136], data.len() as u64);
        write_octal(&mut header[136..148], 1_700_000_000);
        header[148..156].copy_from_slice(b"        ");
        header[156] = b'0';
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        let chk = format!("{sum:06o}\0 ");
        header[148..156].copy_from_slice(chk.as_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        out.extend(std::iter::repeat_n(0u8, pad));
    }
    out.extend(std::iter::repeat_n(0u8, 1024));
    out
}

fn write_octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let s = format!("{value:0width$o}");
    field[..width].copy_from_slice(&s.as_bytes()[s.len() - width..]);
    field[width] = 0;
}

/// gzip with stored (uncompressed) deflate blocks.
pub fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut chunks = data.chunks(65_535).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        out.push(u8::from(last));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xedb8_8320 & mask);
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn layers_are_deterministic_and_distinct() {
        let a = random_layer(1, 1000);
        assert_eq!(a.digest, random_layer(1, 1000).digest);
        assert_ne!(a.digest, random_layer(2, 1000).digest);
        assert_ne!(a.digest, a.diff_id);
        assert_eq!(&a.blob[..2], &[0x1f, 0x8b]);
        // header + data rounded to a block + 2 end blocks
        assert_eq!(tar_archive(&[("x", &[0u8; 1000])]).len(), 512 + 1024 + 1024);
    }

    #[test]
    fn layers_unpack_with_standard_tools() {
        let layer = layer_from_files(&[("etc/hello.txt", b"hello\n"), ("big.bin", &[7u8; 70_000])]);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("layer.tar.gz");
        std::fs::write(&path, &layer.blob).expect("write");
        let out = std::process::Command::new("tar")
            .arg("-tzf")
            .arg(&path)
            .output()
            .expect("run tar");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "etc/hello.txt\nbig.bin\n"
        );
    }
}
