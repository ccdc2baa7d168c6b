//! Base64 with Go's `encoding/base64.StdEncoding` rules (padded; `\r` and `\n` ignored when
//! decoding), for `toBase64`, `fromBase64`, `sprig.b64enc` and `sprig.b64dec`.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Encodes bytes as padded standard base64.
pub(crate) fn b64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn sextet(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// Decodes padded standard base64; the error names the offending input byte like Go does.
pub(crate) fn b64_decode(text: &str) -> Result<Vec<u8>, String> {
    let bytes: Vec<(usize, u8)> = text
        .bytes()
        .enumerate()
        .filter(|(_, b)| *b != b'\r' && *b != b'\n')
        .collect();
    let bad = |i: usize| format!("illegal base64 data at input byte {i}");
    if let Some(&(i, _)) = bytes
        .iter()
        .find(|(_, b)| *b != b'=' && sextet(*b).is_none())
    {
        return Err(bad(i));
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (q, quad) in bytes.chunks(4).enumerate() {
        let last = (q + 1) * 4 >= bytes.len();
        if quad.len() < 4 {
            return Err(bad(text.len()));
        }
        let pads = quad.iter().rev().take_while(|(_, b)| *b == b'=').count();
        if pads > 2 || (pads > 0 && !last) {
            return Err(bad(quad[4 - pads].0));
        }
        let mut n = 0u32;
        for &(i, b) in &quad[..4 - pads] {
            n = (n << 6) | sextet(b).ok_or_else(|| bad(i))?;
        }
        n <<= 6 * pads as u32;
        let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&decoded[..3 - pads]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in [
            "",
            "f",
            "fo",
            "foo",
            "foob",
            "fooba",
            "foobar",
            "Hello World",
            "é€😀",
        ] {
            let e = b64_encode(s.as_bytes());
            assert_eq!(b64_decode(&e).as_deref(), Ok(s.as_bytes()), "{s}");
        }
        assert_eq!(b64_encode(b"Hello World"), "SGVsbG8gV29ybGQ=");
        assert_eq!(b64_decode("SGVs\nbG8=").as_deref(), Ok(&b"Hello"[..]));
    }

    #[test]
    fn rejects_bad_input() {
        for s in ["a", "ab=c", "a===", "ab!d", "YQ==YQ==", "SGVsbG8"] {
            assert!(b64_decode(s).is_err(), "{s}");
        }
    }
}
