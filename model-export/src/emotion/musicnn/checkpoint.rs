//! A reader for TensorFlow's checkpoint format (tensor bundle V2), enough for the float weights of
//! a trained network: `<prefix>.index` is a LevelDB-style sorted table mapping each variable's
//! name to a `BundleEntryProto` (type, shape, offset, size, masked CRC-32C), and
//! `<prefix>.data-00000-of-00001` holds the raw little-endian bytes.
//!
//! Written here because no maintained Rust crate reads TF checkpoints without linking TensorFlow
//! itself (the `tensorflow` crate does, through its C library); the format is a table and a blob.

use std::collections::BTreeMap;
use std::path::Path;

/// Why a checkpoint could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The index is not a table of bundle entries.
    #[error("the checkpoint index is malformed: {0}")]
    Index(String),
    /// A variable is missing, of another type or shape, or its bytes are damaged.
    #[error("variable {name:?}: {why}")]
    Variable {
        /// The variable.
        name: String,
        /// Why.
        why: String,
    },
}

/// `DT_FLOAT` in TensorFlow's `types.proto`.
const DT_FLOAT: i32 = 1;
/// The sorted table's footer magic (LevelDB's).
const TABLE_MAGIC: u64 = 0xdb47_7524_8b80_fb57;
/// Footer: two block handles padded to 40 bytes, then the magic.
const FOOTER_LEN: usize = 48;
/// Each block is followed by its compression type (1 byte) and CRC (4 bytes).
const BLOCK_TRAILER_LEN: usize = 5;

/// `tensorflow.BundleEntryProto` (the fields read here).
#[derive(Clone, PartialEq, prost::Message)]
struct BundleEntry {
    #[prost(int32, tag = "1")]
    dtype: i32,
    #[prost(message, optional, tag = "2")]
    shape: Option<Shape>,
    #[prost(int32, tag = "3")]
    shard_id: i32,
    #[prost(int64, tag = "4")]
    offset: i64,
    #[prost(int64, tag = "5")]
    size: i64,
    #[prost(fixed32, tag = "6")]
    crc32c: u32,
}

/// `tensorflow.TensorShapeProto`.
#[derive(Clone, PartialEq, prost::Message)]
struct Shape {
    #[prost(message, repeated, tag = "2")]
    dim: Vec<ShapeDim>,
}

/// `tensorflow.TensorShapeProto.Dim`.
#[derive(Clone, PartialEq, prost::Message)]
struct ShapeDim {
    #[prost(int64, tag = "1")]
    size: i64,
}

/// A float variable: its shape (TensorFlow's order) and row-major values.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub values: Vec<f32>,
}

/// A loaded checkpoint: every float variable by name.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    variables: BTreeMap<String, Variable>,
}

impl Checkpoint {
    /// Reads `<prefix>.index` and `<prefix>.data-00000-of-00001` (a single shard), checking each
    /// variable's CRC-32C.
    pub fn read(prefix: &Path) -> Result<Checkpoint, CheckpointError> {
        let with = |suffix: &str| {
            let mut p = prefix.as_os_str().to_owned();
            p.push(suffix);
            std::path::PathBuf::from(p)
        };
        let read = |path: std::path::PathBuf| {
            std::fs::read(&path).map_err(|source| CheckpointError::Io {
                path: path.display().to_string(),
                source,
            })
        };
        let index = read(with(".index"))?;
        let data = read(with(".data-00000-of-00001"))?;
        Checkpoint::from_bytes(&index, &data)
    }

    /// Parses an index and its single data shard.
    pub fn from_bytes(index: &[u8], data: &[u8]) -> Result<Checkpoint, CheckpointError> {
        let mut variables = BTreeMap::new();
        for (name, value) in table_entries(index)? {
            if name.is_empty() {
                continue; // the bundle header
            }
            let bad = |why: String| CheckpointError::Variable {
                name: name.clone(),
                why,
            };
            let entry = <BundleEntry as prost::Message>::decode(&value[..])
                .map_err(|e| bad(format!("entry does not decode: {e}")))?;
            if entry.dtype != DT_FLOAT {
                continue; // step counters and the like
            }
            if entry.shard_id != 0 {
                return Err(bad(format!(
                    "in shard {}, only one is read",
                    entry.shard_id
                )));
            }
            let shape: Vec<usize> = entry
                .shape
                .unwrap_or_default()
                .dim
                .iter()
                .map(|d| usize::try_from(d.size).map_err(|_| bad(format!("dimension {}", d.size))))
                .collect::<Result<_, _>>()?;
            let count: usize = shape.iter().product();
            let (offset, size) = (entry.offset as usize, entry.size as usize);
            if size != count * 4 {
                return Err(bad(format!("{size} bytes for shape {shape:?}")));
            }
            let bytes = data.get(offset..offset + size).ok_or_else(|| {
                bad(format!(
                    "bytes {offset}..{} past the data file",
                    offset + size
                ))
            })?;
            if mask(crc32c(bytes)) != entry.crc32c {
                return Err(bad("CRC-32C mismatch: the data file is damaged".into()));
            }
            let values = bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            variables.insert(name, Variable { shape, values });
        }
        Ok(Checkpoint { variables })
    }

    /// The variable `name`, which must have `shape`.
    pub fn get(&self, name: &str, shape: &[usize]) -> Result<&Variable, CheckpointError> {
        let v = self
            .variables
            .get(name)
            .ok_or_else(|| CheckpointError::Variable {
                name: name.into(),
                why: "not in the checkpoint".into(),
            })?;
        if v.shape != shape {
            return Err(CheckpointError::Variable {
                name: name.into(),
                why: format!("shape {:?}, expected {shape:?}", v.shape),
            });
        }
        Ok(v)
    }
}

/// A table entry: key and value bytes.
type Entry = (Vec<u8>, Vec<u8>);

/// A LevelDB varint (at most 10 bytes) at `*pos`.
fn varint(bytes: &[u8], pos: &mut usize) -> Result<u64, CheckpointError> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes
            .get(*pos)
            .ok_or_else(|| CheckpointError::Index("varint past the end".into()))?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(CheckpointError::Index("varint longer than 10 bytes".into()))
}

/// A block handle (offset, size) at `*pos`.
fn handle(bytes: &[u8], pos: &mut usize) -> Result<(usize, usize), CheckpointError> {
    Ok((varint(bytes, pos)? as usize, varint(bytes, pos)? as usize))
}

/// The key/value entries of one (uncompressed) block.
fn block_entries(
    table: &[u8],
    (offset, size): (usize, usize),
) -> Result<Vec<Entry>, CheckpointError> {
    let err = |why: &str| CheckpointError::Index(why.into());
    let block = table
        .get(offset..offset + size + BLOCK_TRAILER_LEN)
        .ok_or_else(|| err("block past the end of the index"))?;
    if block[size] != 0 {
        return Err(err("compressed blocks are not supported"));
    }
    let block = &block[..size];
    let n = block.len();
    let restarts = u32::from_le_bytes(
        block
            .get(n.wrapping_sub(4)..)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| err("block too short"))?,
    ) as usize;
    let end = n
        .checked_sub(4 + 4 * restarts)
        .ok_or_else(|| err("restart array larger than the block"))?;
    let (mut pos, mut key, mut out) = (0usize, Vec::new(), Vec::new());
    while pos < end {
        let shared = varint(block, &mut pos)? as usize;
        let unshared = varint(block, &mut pos)? as usize;
        let len = varint(block, &mut pos)? as usize;
        if shared > key.len() || pos + unshared + len > end {
            return Err(err("entry out of bounds"));
        }
        key.truncate(shared);
        key.extend_from_slice(&block[pos..pos + unshared]);
        pos += unshared;
        out.push((key.clone(), block[pos..pos + len].to_vec()));
        pos += len;
    }
    Ok(out)
}

/// Every entry of the sorted table, in key order, keys as text.
fn table_entries(table: &[u8]) -> Result<Vec<(String, Vec<u8>)>, CheckpointError> {
    let footer = table
        .len()
        .checked_sub(FOOTER_LEN)
        .map(|at| &table[at..])
        .ok_or_else(|| CheckpointError::Index("shorter than a table footer".into()))?;
    let magic = u64::from_le_bytes(footer[40..48].try_into().expect("8 bytes"));
    if magic != TABLE_MAGIC {
        return Err(CheckpointError::Index("no table magic at the end".into()));
    }
    let mut pos = 0;
    let _meta = handle(footer, &mut pos)?;
    let index = handle(footer, &mut pos)?;
    let mut out = Vec::new();
    for (_, value) in block_entries(table, index)? {
        let mut p = 0;
        for (k, v) in block_entries(table, handle(&value, &mut p)?)? {
            let k = String::from_utf8(k)
                .map_err(|_| CheckpointError::Index("key is not UTF-8".into()))?;
            out.push((k, v));
        }
    }
    Ok(out)
}

/// CRC-32C (Castagnoli), bitwise: run once per variable at load time.
fn crc32c(bytes: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, e) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0x82f6_3b78 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *e = c;
        }
        t
    });
    !bytes.iter().fold(!0u32, |c, &b| {
        table[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8)
    })
}

/// LevelDB's CRC masking (as TensorFlow stores it in the index).
fn mask(crc: u32) -> u32 {
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_known_value() {
        // RFC 3720 B.4: 32 bytes of zeros.
        assert_eq!(crc32c(&[0u8; 32]), 0x8a91_36aa);
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
    }

    #[test]
    fn hostile_indexes_are_errors() {
        for bytes in [&b""[..], &[0u8; 47][..], &[0xffu8; 200][..]] {
            assert!(Checkpoint::from_bytes(bytes, &[]).is_err());
        }
    }
}
