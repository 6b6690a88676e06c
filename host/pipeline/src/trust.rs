//! Module signatures: which third-party analytics may run.
//!
//! A module `x.wasm` is signed by `x.wasm.sig` beside it: an ed25519
//! signature over the module's bytes. Keys and signatures are small text
//! files (`dumpwatch keygen`, `dumpwatch sign` write them):
//!
//! ```text
//! dumpwatch ed25519 public key        dumpwatch ed25519 signature
//! <64 hex digits>                      <128 hex digits>
//! ```
//!
//! The private key file has the same shape (`dumpwatch ed25519 private
//! key`, the 64-hex-digit seed) and is written readable by its owner only.
//! Analytics shipped inside the binary are trusted as the binary is.

use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

const PUBLIC: &str = "dumpwatch ed25519 public key";
const PRIVATE: &str = "dumpwatch ed25519 private key";
const SIGNATURE: &str = "dumpwatch ed25519 signature";

/// The signature file of a module.
pub fn signature_path(module: &Path) -> PathBuf {
    let mut s = module.as_os_str().to_owned();
    s.push(".sig");
    PathBuf::from(s)
}

fn read_tagged(text: &str, tag: &str, len: usize, what: &str) -> Result<Vec<u8>, String> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    if lines.next() != Some(tag) {
        return Err(format!("not a {what} (first line must be `{tag}`)"));
    }
    let hex_text = lines
        .next()
        .ok_or_else(|| format!("{what}: missing the hex line"))?;
    let bytes = hex::decode(hex_text).map_err(|e| format!("{what}: {e}"))?;
    if bytes.len() != len {
        return Err(format!(
            "{what}: expected {len} bytes, found {}",
            bytes.len()
        ));
    }
    Ok(bytes)
}

fn key_from(bytes: &[u8]) -> Result<VerifyingKey, String> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| "a key has 32 bytes".to_string())?;
    VerifyingKey::from_bytes(&arr).map_err(|e| format!("invalid public key: {e}"))
}

/// Parse a trusted key: a `*.pub` file path (relative to `base`) or 64 hex
/// digits.
pub fn parse_trusted_key(spec: &str, base: &Path) -> Result<VerifyingKey, String> {
    let t = spec.trim();
    if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return key_from(&hex::decode(t).map_err(|e| e.to_string())?);
    }
    let p = if Path::new(t).is_absolute() {
        PathBuf::from(t)
    } else {
        base.join(t)
    };
    let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    key_from(
        &read_tagged(&text, PUBLIC, 32, "public key")
            .map_err(|e| format!("{}: {e}", p.display()))?,
    )
}

/// Which modules may load.
#[derive(Clone, Debug, Default)]
pub struct TrustPolicy {
    pub require_signatures: bool,
    pub keys: Vec<VerifyingKey>,
}

impl TrustPolicy {
    /// The policy of a config; every unreadable key is a problem.
    pub fn from_config(cfg: &dumpwatch_config::Config) -> Result<TrustPolicy, Vec<String>> {
        let mut problems = Vec::new();
        let mut keys = Vec::new();
        for k in &cfg.trust.trusted_keys {
            match parse_trusted_key(k, &cfg.base_dir) {
                Ok(v) => keys.push(v),
                Err(e) => problems.push(format!("trust.trusted_keys: {e}")),
            }
        }
        if cfg.trust.require_signatures && keys.is_empty() && problems.is_empty() {
            problems.push("trust.require_signatures is set but trust.trusted_keys is empty".into());
        }
        if problems.is_empty() {
            Ok(TrustPolicy {
                require_signatures: cfg.trust.require_signatures,
                keys,
            })
        } else {
            Err(problems)
        }
    }

    /// May this module (read from `path`) load?
    pub fn check(&self, path: &Path, bytes: &[u8]) -> Result<(), String> {
        let sig_path = signature_path(path);
        let text = match std::fs::read_to_string(&sig_path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return if self.require_signatures {
                    Err(format!(
                        "{}: unsigned (no {}), and trust.require_signatures is set; sign it with `dumpwatch sign`",
                        path.display(),
                        sig_path.display()
                    ))
                } else {
                    Ok(())
                };
            }
            Err(e) => return Err(format!("{}: {e}", sig_path.display())),
        };
        let sig_bytes = read_tagged(&text, SIGNATURE, 64, "signature")
            .map_err(|e| format!("{}: {e}", sig_path.display()))?;
        let arr: [u8; 64] = sig_bytes
            .as_slice()
            .try_into()
            .map_err(|_| "a signature has 64 bytes".to_string())?;
        let sig = Signature::from_bytes(&arr);
        if self.keys.iter().any(|k| k.verify(bytes, &sig).is_ok()) {
            return Ok(());
        }
        Err(format!(
            "{}: the signature in {} is not valid for this module under any trusted key; refusing it",
            path.display(),
            sig_path.display()
        ))
    }
}

/// A new key pair as (private key file text, public key file text).
pub fn generate_key(seed: [u8; 32]) -> (String, String) {
    let sk = SigningKey::from_bytes(&seed);
    let vk = sk.verifying_key();
    (
        format!("{PRIVATE}\n{}\n", hex::encode(sk.to_bytes())),
        format!("{PUBLIC}\n{}\n", hex::encode(vk.to_bytes())),
    )
}

/// Sign module bytes with a private key file's text; returns the signature
/// file's text.
pub fn sign(private_key: &str, module: &[u8]) -> Result<String, String> {
    let seed = read_tagged(private_key, PRIVATE, 32, "private key")?;
    let arr: [u8; 32] = seed
        .as_slice()
        .try_into()
        .map_err(|_| "a seed has 32 bytes".to_string())?;
    let sk = SigningKey::from_bytes(&arr);
    let sig = sk.sign(module);
    Ok(format!("{SIGNATURE}\n{}\n", hex::encode(sig.to_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_refuse() {
        let dir = tempfile::tempdir().expect("tmp");
        let (private, public) = generate_key([7u8; 32]);
        let module = dir.path().join("m.wasm");
        std::fs::write(&module, b"\0asm module bytes").expect("write");
        let pub_path = dir.path().join("k.pub");
        std::fs::write(&pub_path, &public).expect("write");
        let policy = TrustPolicy {
            require_signatures: true,
            keys: vec![parse_trusted_key("k.pub", dir.path()).expect("key")],
        };
        let unsigned = policy
            .check(&module, b"\0asm module bytes")
            .expect_err("unsigned");
        assert!(unsigned.contains("unsigned"), "{unsigned}");
        std::fs::write(
            signature_path(&module),
            sign(&private, b"\0asm module bytes").expect("sign"),
        )
        .expect("write");
        policy.check(&module, b"\0asm module bytes").expect("valid");
        let tampered = policy
            .check(&module, b"\0asm module bytes!")
            .expect_err("tampered");
        assert!(tampered.contains("not valid"), "{tampered}");
        let (_, other_public) = generate_key([9u8; 32]);
        let other = TrustPolicy {
            require_signatures: false,
            keys: vec![
                key_from(&read_tagged(&other_public, PUBLIC, 32, "k").expect("k")).expect("k"),
            ],
        };
        assert!(
            other.check(&module, b"\0asm module bytes").is_err(),
            "wrong key"
        );
        // Inline hex keys work too.
        let hex_key = public.lines().nth(1).expect("hex");
        parse_trusted_key(hex_key, dir.path()).expect("hex key");
    }
}
