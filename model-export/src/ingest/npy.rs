//! `.npy` arrays (SiTunes' wrist records), read with the `npyz` crate.

use anyhow::{ensure, Context, Result};

/// A little-endian float64, C-order array: (shape, values). Anything else is refused.
pub fn read_f64(bytes: &[u8]) -> Result<(Vec<usize>, Vec<f64>)> {
    let file = npyz::NpyFile::new(bytes).context("not a .npy file")?;
    ensure!(
        file.order() == npyz::Order::C,
        ".npy array is not C-ordered"
    );
    let dtype = file.dtype();
    ensure!(
        dtype == npyz::DType::Plain("<f8".parse().expect("a numpy type string")),
        ".npy dtype is {}, not little-endian float64",
        dtype.descr()
    );
    let shape: Vec<usize> = file.shape().iter().map(|&n| n as usize).collect();
    let values: Vec<f64> = file.into_vec().context("truncated .npy data")?;
    ensure!(
        values.len() == shape.iter().product::<usize>(),
        ".npy holds {} values, shape {shape:?} needs {}",
        values.len(),
        shape.iter().product::<usize>()
    );
    Ok((shape, values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_f64_c_arrays_and_refuses_the_rest() {
        let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        for v in 0..6 {
            bytes.extend_from_slice(&f64::from(v).to_le_bytes());
        }
        let (shape, values) = read_f64(&bytes).unwrap();
        assert_eq!(shape, vec![2, 3]);
        assert_eq!(values, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert!(read_f64(&bytes[..bytes.len() - 1]).is_err());
        assert!(read_f64(b"not numpy at all").is_err());
        let mut f4 = bytes.clone();
        let pos = f4.windows(3).position(|w| w == b"<f8").unwrap();
        f4[pos..pos + 3].copy_from_slice(b"<f4");
        assert!(read_f64(&f4).is_err());
        let mut fortran = bytes.clone();
        let pos = fortran.windows(5).position(|w| w == b"False").unwrap();
        fortran[pos..pos + 5].copy_from_slice(b"True,");
        assert!(read_f64(&fortran).is_err());
    }
}
