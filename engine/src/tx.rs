//! Transactions: the transfer record, its compact binary encoding, and rejection reasons.
//!
//! A transfer is four little-endian `u64`s (32 bytes): `from`, `to`, `amount`, `nonce`. The
//! in-memory layout is the wire layout on little-endian machines, so a batch can be hashed,
//! sent over HTTP or decoded without copying field by field.

use bytemuck::{Pod, Zeroable};

/// Size in bytes of one encoded transfer record.
pub const RECORD_SIZE: usize = 32;

/// A transfer of `amount` from account `from` to account `to`, valid when `nonce` equals the
/// sender's current nonce (each sender's nonces are consecutive, starting at 0).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Pod, Zeroable)]
pub struct Transfer {
    pub from: u64,
    pub to: u64,
    pub amount: u64,
    pub nonce: u64,
}

const _: () = assert!(std::mem::size_of::<Transfer>() == RECORD_SIZE);

impl Transfer {
    /// Encodes this transfer as its 32-byte little-endian record.
    pub fn to_bytes(&self) -> [u8; RECORD_SIZE] {
        let mut out = [0u8; RECORD_SIZE];
        out[0..8].copy_from_slice(&self.from.to_le_bytes());
        out[8..16].copy_from_slice(&self.to.to_le_bytes());
        out[16..24].copy_from_slice(&self.amount.to_le_bytes());
        out[24..32].copy_from_slice(&self.nonce.to_le_bytes());
        out
    }

    /// Decodes one 32-byte little-endian record.
    pub fn from_bytes(b: &[u8; RECORD_SIZE]) -> Self {
        let word = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8-byte slice"));
        Transfer {
            from: word(0),
            to: word(8),
            amount: word(16),
            nonce: word(24),
        }
    }
}

/// Why a transfer was rejected. A rejected transfer changes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum RejectReason {
    /// `from` or `to` is not an account of this engine.
    UnknownAccount = 0,
    /// `from == to`.
    SelfTransfer = 1,
    /// `amount == 0`.
    ZeroAmount = 2,
    /// `nonce` is not the sender's current nonce (a replay, a gap, or a race with another
    /// submitter of the same sender).
    BadNonce = 3,
    /// The sender's balance is below `amount`.
    InsufficientFunds = 4,
    /// The sender belongs to a shard the submitting lane does not own (single-writer design).
    NotOwner = 5,
}

impl RejectReason {
    /// Every reason, in index order.
    pub const ALL: [RejectReason; 6] = [
        RejectReason::UnknownAccount,
        RejectReason::SelfTransfer,
        RejectReason::ZeroAmount,
        RejectReason::BadNonce,
        RejectReason::InsufficientFunds,
        RejectReason::NotOwner,
    ];
    /// Number of reasons.
    pub const COUNT: usize = Self::ALL.len();

    /// Stable snake_case name, used in stats, JSON and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::UnknownAccount => "unknown_account",
            RejectReason::SelfTransfer => "self_transfer",
            RejectReason::ZeroAmount => "zero_amount",
            RejectReason::BadNonce => "bad_nonce",
            RejectReason::InsufficientFunds => "insufficient_funds",
            RejectReason::NotOwner => "not_owner",
        }
    }
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A byte buffer that is not a whole number of records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("binary batch of {len} bytes is not a whole number of {RECORD_SIZE}-byte records")]
pub struct DecodeError {
    pub len: usize,
}

/// Appends the binary encoding of `txs` to `out`.
pub fn encode_batch(txs: &[Transfer], out: &mut Vec<u8>) {
    if cfg!(target_endian = "little") {
        out.extend_from_slice(bytemuck::cast_slice(txs));
    } else {
        out.reserve(txs.len() * RECORD_SIZE);
        for t in txs {
            out.extend_from_slice(&t.to_bytes());
        }
    }
}

/// Decodes a binary batch, appending to `out` (cleared first).
pub fn decode_batch_into(bytes: &[u8], out: &mut Vec<Transfer>) -> Result<(), DecodeError> {
    if !bytes.len().is_multiple_of(RECORD_SIZE) {
        return Err(DecodeError { len: bytes.len() });
    }
    out.clear();
    out.reserve(bytes.len() / RECORD_SIZE);
    for chunk in bytes.chunks_exact(RECORD_SIZE) {
        // chunks_exact guarantees the length.
        out.push(Transfer::from_bytes(
            chunk.try_into().expect("32-byte chunk"),
        ));
    }
    Ok(())
}

/// Decodes a binary batch into a new vector.
pub fn decode_batch(bytes: &[u8]) -> Result<Vec<Transfer>, DecodeError> {
    let mut v = Vec::new();
    decode_batch_into(bytes, &mut v)?;
    Ok(v)
}

/// The bytes of a batch as they are hashed into the ledger (the wire encoding).
pub(crate) fn batch_bytes(txs: &[Transfer]) -> std::borrow::Cow<'_, [u8]> {
    if cfg!(target_endian = "little") {
        std::borrow::Cow::Borrowed(bytemuck::cast_slice(txs))
    } else {
        let mut v = Vec::new();
        encode_batch(txs, &mut v);
        std::borrow::Cow::Owned(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trip_is_little_endian() {
        let t = Transfer {
            from: 1,
            to: 0x0102_0304_0506_0708,
            amount: u64::MAX,
            nonce: 7,
        };
        let b = t.to_bytes();
        assert_eq!(b[0], 1);
        assert_eq!(b[8], 0x08);
        assert_eq!(&b[16..24], &[0xff; 8]);
        assert_eq!(Transfer::from_bytes(&b), t);
        let mut buf = Vec::new();
        encode_batch(&[t, t], &mut buf);
        assert_eq!(buf.len(), 64);
        assert_eq!(&buf[..32], &b);
        assert_eq!(decode_batch(&buf).unwrap(), vec![t, t]);
    }

    #[test]
    fn partial_record_is_an_error() {
        assert_eq!(decode_batch(&[0u8; 33]), Err(DecodeError { len: 33 }));
        assert_eq!(decode_batch(&[]).unwrap(), vec![]);
    }
}
