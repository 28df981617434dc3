//! Content digests (`algorithm:hex`, seed 1.6): parsing, validation, computing and
//! verifying. Only sha256 and sha512 are accepted, as the OCI image spec registers.

use crate::error::{Error, Result};
use sha2::{Digest as _, Sha256, Sha512};
use std::fmt;
use std::str::FromStr;

/// A hash algorithm registered for OCI digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// Length of the hex encoding.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }

    fn from_name(name: &str) -> Option<Algorithm> {
        match name {
            "sha256" => Some(Algorithm::Sha256),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated digest such as `sha256:e3b0c442…`. Stored as its canonical string, so
/// ordering, hashing and equality are those of the string.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    value: String,
    algorithm: Algorithm,
}

impl Digest {
    /// Parse and validate `algorithm:hex`. The error message quotes the input and says
    /// what is wrong with it.
    pub fn parse(input: &str) -> Result<Digest> {
        let bad = |why: String| Error::usage(format!("invalid digest '{input}': {why}"));
        let Some((algo, hex)) = input.split_once(':') else {
            return Err(bad(
                "expected 'algorithm:hex', e.g. 'sha256:' followed by 64 hex characters".into(),
            ));
        };
        if algo.is_empty() {
            return Err(bad("the algorithm is missing before ':'".into()));
        }
        let Some(algorithm) = Algorithm::from_name(algo) else {
            let hint = if algo.eq_ignore_ascii_case("sha256") || algo.eq_ignore_ascii_case("sha512")
            {
                " (algorithm names are lowercase)"
            } else {
                ""
            };
            return Err(bad(format!(
                "unsupported algorithm '{algo}'{hint}; expected sha256 or sha512"
            )));
        };
        if hex.is_empty() {
            return Err(bad("the hex part is missing after ':'".into()));
        }
        if let Some(c) = hex.chars().find(|c| !c.is_ascii_hexdigit()) {
            return Err(bad(format!(
                "'{}' is not a hex character",
                c.escape_default()
            )));
        }
        if hex.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(bad("hex characters must be lowercase".into()));
        }
        if hex.len() != algorithm.hex_len() {
            return Err(bad(format!(
                "{algorithm} needs {} hex characters, found {}",
                algorithm.hex_len(),
                hex.len()
            )));
        }
        Ok(Digest {
            value: input.to_owned(),
            algorithm,
        })
    }

    /// The sha256 digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Digest {
        Self::compute(Algorithm::Sha256, bytes)
    }

    /// The digest of `bytes` with `algorithm`.
    pub fn compute(algorithm: Algorithm, bytes: &[u8]) -> Digest {
        let hex = match algorithm {
            Algorithm::Sha256 => hex::encode(Sha256::digest(bytes)),
            Algorithm::Sha512 => hex::encode(Sha512::digest(bytes)),
        };
        Digest {
            value: format!("{algorithm}:{hex}"),
            algorithm,
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The encoded (hex) part.
    pub fn hex(&self) -> &str {
        &self.value[self.algorithm.as_str().len() + 1..]
    }

    /// `algorithm:hex`.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// `algorithm:` and the first 12 hex characters, for display.
    pub fn short(&self) -> String {
        format!("{}:{}", self.algorithm, &self.hex()[..12])
    }

    /// `algorithm-hex`: the tag of the OCI 1.1 referrers fallback (`sha256-<hex>`), also
    /// safe as a file name.
    pub fn to_tag(&self) -> String {
        format!("{}-{}", self.algorithm, self.hex())
    }

    /// Check `bytes` against this digest. The error names both digests.
    pub fn verify(&self, bytes: &[u8]) -> Result<()> {
        let mut v = self.verifier();
        v.update(bytes);
        v.finish()
    }

    /// A streaming verifier: feed chunks with [`Verifier::update`], then
    /// [`Verifier::finish`].
    pub fn verifier(&self) -> Verifier {
        let state = match self.algorithm {
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(Sha512::new()),
        };
        Verifier {
            expected: self.clone(),
            state,
            len: 0,
        }
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.value)
    }
}

impl FromStr for Digest {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Digest::parse(s)
    }
}

impl TryFrom<&str> for Digest {
    type Error = Error;
    fn try_from(s: &str) -> Result<Self> {
        Digest::parse(s)
    }
}

impl AsRef<str> for Digest {
    fn as_ref(&self) -> &str {
        &self.value
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.value)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Digest::parse(&s).map_err(|e| serde::de::Error::custom(e.message()))
    }
}

enum Hasher {
    Sha256(Sha256),
    Sha512(Sha512),
}

/// Verifies streamed content against an expected digest.
pub struct Verifier {
    expected: Digest,
    state: Hasher,
    len: u64,
}

impl Verifier {
    pub fn update(&mut self, bytes: &[u8]) {
        self.len += bytes.len() as u64;
        match &mut self.state {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }

    /// Bytes fed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The digest of what was fed.
    pub fn finish_digest(self) -> Digest {
        let hex = match self.state {
            Hasher::Sha256(h) => hex::encode(h.finalize()),
            Hasher::Sha512(h) => hex::encode(h.finalize()),
        };
        Digest {
            value: format!("{}:{hex}", self.expected.algorithm),
            algorithm: self.expected.algorithm,
        }
    }

    /// `Ok` when the content matches; otherwise a General error naming both digests.
    pub fn finish(self) -> Result<()> {
        let expected = self.expected.clone();
        let len = self.len;
        let actual = self.finish_digest();
        if actual == expected {
            Ok(())
        } else {
            Err(Error::general(format!(
                "digest mismatch: expected {expected}, got {actual} ({len} bytes)"
            ))
            .with_hint("the registry returned content that does not match its digest"))
        }
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("expected", &self.expected)
            .field("len", &self.len)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    const EMPTY256: &str =
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn parses_valid_digests() {
        let d = Digest::parse(EMPTY256).unwrap();
        assert_eq!(d.algorithm(), Algorithm::Sha256);
        assert_eq!(d.hex().len(), 64);
        assert_eq!(d.as_str(), EMPTY256);
        assert_eq!(d.to_string(), EMPTY256);
        assert_eq!(d.short(), "sha256:e3b0c44298fc");
        assert_eq!(
            d.to_tag(),
            "sha256-e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        crate::reference::validate_tag(&d.to_tag()).unwrap();
        let s512 = format!("sha512:{}", "ab".repeat(64));
        let d = s512.parse::<Digest>().unwrap();
        assert_eq!(d.algorithm(), Algorithm::Sha512);
        assert_eq!(d.hex(), "ab".repeat(64));
    }

    #[test]
    fn rejects_invalid_digests_with_clear_messages() {
        let h64 = "a".repeat(64);
        for (input, needle) in [
            ("", "expected 'algorithm:hex'"),
            ("e3b0c44298fc", "expected 'algorithm:hex'"),
            (&format!(":{h64}"), "algorithm is missing"),
            (&format!("md5:{h64}"), "unsupported algorithm 'md5'"),
            (&format!("SHA256:{h64}"), "algorithm names are lowercase"),
            ("sha256:", "hex part is missing"),
            ("sha256:abc", "needs 64 hex characters, found 3"),
            (&format!("sha256:{h64}00"), "found 66"),
            (&format!("sha512:{h64}"), "sha512 needs 128"),
            (&format!("sha256:{}", "g".repeat(64)), "'g' is not a hex"),
            (&format!("sha256:{}", "A".repeat(64)), "must be lowercase"),
            (&format!("sha256:{} ", "a".repeat(63)), "' ' is not a hex"),
        ] {
            let err = Digest::parse(input).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Usage, "{input}");
            assert!(
                err.message().contains(needle),
                "{input:?}: {} (wanted {needle})",
                err.message()
            );
            assert!(err.message().starts_with("invalid digest '"), "{input}");
        }
    }

    #[test]
    fn computes_and_verifies() {
        assert_eq!(Digest::sha256_of(b"").as_str(), EMPTY256);
        let d = Digest::sha256_of(b"hello");
        assert_eq!(
            d.as_str(),
            "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        d.verify(b"hello").unwrap();
        let err = d.verify(b"hellO").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::General);
        assert!(err.message().contains(d.as_str()));
        assert!(err.message().contains(Digest::sha256_of(b"hellO").as_str()));

        let d512 = Digest::compute(Algorithm::Sha512, b"abc");
        assert!(d512.hex().starts_with("ddaf35a193617aba"));
        d512.verify(b"abc").unwrap();
        assert!(d512.verify(b"abd").is_err());
    }

    #[test]
    fn streaming_verifier() {
        let data = vec![7u8; 100_000];
        let d = Digest::sha256_of(&data);
        let mut v = d.verifier();
        for chunk in data.chunks(4096) {
            v.update(chunk);
        }
        assert_eq!(v.len(), 100_000);
        v.finish().unwrap();
        let mut v = d.verifier();
        v.update(&data[..99_999]);
        let err = v.finish().unwrap_err();
        assert!(err.message().contains("99999 bytes"), "{}", err.message());
    }

    #[test]
    fn serde_round_trip_as_string() {
        let d = Digest::parse(EMPTY256).unwrap();
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, format!("\"{EMPTY256}\""));
        let back: Digest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
        let err = serde_json::from_str::<Digest>("\"sha256:xyz\"").unwrap_err();
        assert!(err.to_string().contains("invalid digest"));
    }

    #[test]
    fn ordering_and_hashing_follow_the_string() {
        let a = Digest::parse(&format!("sha256:{}", "0".repeat(64))).unwrap();
        let b = Digest::parse(&format!("sha256:{}", "1".repeat(64))).unwrap();
        assert!(a < b);
        let set: std::collections::HashSet<_> = [a.clone(), a.clone(), b].into_iter().collect();
        assert_eq!(set.len(), 2);
    }
}
