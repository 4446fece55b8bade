//! The compact little-endian container shared by every binary asset.
//!
//! Layout: magic (4 bytes, e.g. `ATNC`), format version (u16), then the payload. Readers check
//! every length against the bytes left, so a truncated or hostile file is an error, never a panic.

use crate::error::AssetError;
use half::f16;

/// Version of the binary payloads this build reads and writes.
pub const BINARY_VERSION: u16 = 1;

/// Rounds a row to int8 steps of `max |x| / 127` (a step of 1 for an all-zero row); returns the
/// step and the steps. The int8 assets (taste.bin, cf.bin, catalogue shards) all store this.
pub fn quantise_row(row: &[f32]) -> (f32, Vec<i8>) {
    let max = row.iter().fold(0f32, |m, &x| m.max(x.abs()));
    let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
    let q = row
        .iter()
        .map(|&x| (x / scale).round().clamp(-127.0, 127.0) as i8)
        .collect();
    (scale, q)
}

/// Appends little-endian values to a buffer.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// Starts a file with its magic and the current [`BINARY_VERSION`].
    pub fn new(magic: &[u8; 4]) -> Writer {
        let mut w = Writer { buf: Vec::new() };
        w.buf.extend_from_slice(magic);
        w.u16(BINARY_VERSION);
        w
    }
    /// Writes one byte.
    pub fn u8(&mut self, x: u8) {
        self.buf.push(x);
    }
    /// Writes a signed byte.
    pub fn i8(&mut self, x: i8) {
        self.buf.push(x as u8);
    }
    /// Writes a u16.
    pub fn u16(&mut self, x: u16) {
        self.buf.extend_from_slice(&x.to_le_bytes());
    }
    /// Writes a u32.
    pub fn u32(&mut self, x: u32) {
        self.buf.extend_from_slice(&x.to_le_bytes());
    }
    /// Writes an f32.
    pub fn f32(&mut self, x: f32) {
        self.buf.extend_from_slice(&x.to_le_bytes());
    }
    /// Writes each value as an IEEE half float.
    pub fn f16s(&mut self, xs: &[f32]) {
        for &x in xs {
            self.buf.extend_from_slice(&f16::from_f32(x).to_le_bytes());
        }
    }
    /// Writes signed bytes.
    pub fn i8s(&mut self, xs: &[i8]) {
        self.buf.extend(xs.iter().map(|&x| x as u8));
    }
    /// Writes each value as an f32.
    pub fn f32s(&mut self, xs: &[f32]) {
        for &x in xs {
            self.f32(x);
        }
    }
    /// Writes a string of at most 65,535 bytes (longer ones are cut at a char boundary).
    pub fn str(&mut self, s: &str) {
        let mut end = s.len().min(u16::MAX as usize);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.u16(end as u16);
        self.buf.extend_from_slice(&s.as_bytes()[..end]);
    }
    /// The finished bytes.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads little-endian values, checking bounds.
#[derive(Debug)]
pub struct Reader<'a> {
    file: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Checks magic and version and positions after them.
    pub fn open(file: &'a str, bytes: &'a [u8], magic: &[u8; 4]) -> Result<Reader<'a>, AssetError> {
        let mut r = Reader {
            file,
            bytes,
            pos: 0,
        };
        let m = r.take(4)?;
        if m != magic {
            return Err(r.err(format!(
                "expected magic {:?}, found {:?}",
                String::from_utf8_lossy(magic),
                String::from_utf8_lossy(m)
            )));
        }
        let v = r.u16()?;
        if v != BINARY_VERSION {
            return Err(r.err(format!(
                "binary version {v}, this build reads {BINARY_VERSION}"
            )));
        }
        Ok(r)
    }

    /// A `Malformed` error for this file.
    pub fn err(&self, reason: impl Into<String>) -> AssetError {
        AssetError::Malformed {
            file: self.file.to_string(),
            reason: reason.into(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], AssetError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| {
                self.err(format!(
                    "needs {n} more bytes at offset {} but only {} remain",
                    self.pos,
                    self.bytes.len() - self.pos
                ))
            })?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, AssetError> {
        Ok(self.take(1)?[0])
    }
    /// Reads a signed byte.
    pub fn i8(&mut self) -> Result<i8, AssetError> {
        Ok(self.take(1)?[0] as i8)
    }
    /// Reads a u16.
    pub fn u16(&mut self) -> Result<u16, AssetError> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }
    /// Reads a u32.
    pub fn u32(&mut self) -> Result<u32, AssetError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    /// Reads a finite f32.
    pub fn f32(&mut self) -> Result<f32, AssetError> {
        let x = f32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes"));
        if x.is_finite() {
            Ok(x)
        } else {
            Err(self.err(format!("non-finite number at offset {}", self.pos - 4)))
        }
    }
    /// Reads `n` half floats as f32, rejecting non-finite values.
    pub fn f16s(&mut self, n: usize) -> Result<Vec<f32>, AssetError> {
        let bytes = self.take(
            n.checked_mul(2)
                .ok_or_else(|| self.err("length overflow"))?,
        )?;
        let out: Vec<f32> = bytes
            .chunks_exact(2)
            .map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect();
        if out.iter().any(|x| !x.is_finite()) {
            return Err(self.err("non-finite half float"));
        }
        Ok(out)
    }
    /// Reads `n` signed bytes.
    pub fn i8s(&mut self, n: usize) -> Result<Vec<i8>, AssetError> {
        Ok(self.take(n)?.iter().map(|&b| b as i8).collect())
    }
    /// Reads `n` finite f32 values.
    pub fn f32s(&mut self, n: usize) -> Result<Vec<f32>, AssetError> {
        (0..n).map(|_| self.f32()).collect()
    }
    /// Reads a length-prefixed UTF-8 string.
    pub fn str(&mut self) -> Result<String, AssetError> {
        let n = self.u16()? as usize;
        let b = self.take(n)?;
        std::str::from_utf8(b)
            .map(str::to_owned)
            .map_err(|_| self.err("string is not UTF-8"))
    }
    /// A count that must fit the remaining bytes at `min_bytes_each`; guards huge allocations.
    pub fn count(&mut self, min_bytes_each: usize) -> Result<usize, AssetError> {
        let n = self.u32()? as usize;
        let left = self.bytes.len() - self.pos;
        if n.saturating_mul(min_bytes_each.max(1)) > left {
            return Err(self.err(format!("count {n} cannot fit in the {left} bytes left")));
        }
        Ok(n)
    }
    /// Fails unless every byte was consumed.
    pub fn end(self) -> Result<(), AssetError> {
        if self.pos == self.bytes.len() {
            Ok(())
        } else {
            Err(self.err(format!(
                "{} unexpected trailing bytes",
                self.bytes.len() - self.pos
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let mut w = Writer::new(b"TEST");
        w.u32(7);
        w.str("héllo");
        w.f16s(&[0.5, -1.25]);
        let bytes = w.finish();
        let mut r = Reader::open("t", &bytes, b"TEST").unwrap();
        assert_eq!(r.u32().unwrap(), 7);
        assert_eq!(r.str().unwrap(), "héllo");
        assert_eq!(r.f16s(2).unwrap(), vec![0.5, -1.25]);
        r.end().unwrap();
        for cut in 0..bytes.len() {
            let res = Reader::open("t", &bytes[..cut], b"TEST").and_then(|mut r| {
                r.u32()?;
                r.str()?;
                r.f16s(2)?;
                r.end()
            });
            assert!(res.is_err(), "truncated at {cut} must fail");
        }
    }

    #[test]
    fn wrong_magic_is_named() {
        let bytes = Writer::new(b"AAAA").finish();
        let e = Reader::open("x.bin", &bytes, b"BBBB").unwrap_err();
        assert!(e.to_string().contains("x.bin"));
    }

    #[test]
    fn huge_counts_are_rejected_before_allocating() {
        let mut w = Writer::new(b"TEST");
        w.u32(u32::MAX);
        let bytes = w.finish();
        let mut r = Reader::open("t", &bytes, b"TEST").unwrap();
        assert!(r.count(8).is_err());
    }
}
