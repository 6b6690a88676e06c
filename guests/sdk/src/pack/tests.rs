use std::net::IpAddr;

use proptest::prelude::*;

use super::*;
use crate::evidence::{Detail, EvidenceLedger, StoredEndpoint, StoredEvidence};

/// `value` packed, and the table of the names it used.
fn packed<T: Pack>(value: &T) -> (Vec<u8>, NameTable) {
    let mut bytes = vec![0xEE]; // packing appends: keep what was there
    let mut used = NamesUsed::default();
    Packer::new(&mut bytes, &mut used).put(value);
    assert_eq!(bytes[0], 0xEE);
    bytes.remove(0);
    let pairs = used
        .table()
        .into_iter()
        .map(|(serial, text)| (serial, text.to_string()))
        .collect();
    (bytes, NameTable::new(pairs).unwrap())
}

/// Decode all of `bytes` as a `T` (trailing bytes fail the test).
fn unpacked<T: Pack>(bytes: &[u8], names: &NameTable) -> Result<T, PackError> {
    let mut input = Unpacker::new(bytes, names);
    let value = input.get::<T>()?;
    match input.remaining() {
        0 => Ok(value),
        n => panic!("{n} trailing bytes"),
    }
}

fn round_trip<T: Pack + PartialEq + std::fmt::Debug>(value: &T) -> Vec<u8> {
    let (bytes, names) = packed(value);
    assert_eq!(&unpacked::<T>(&bytes, &names).unwrap(), value);
    bytes
}

#[test]
fn varints_have_the_leb128_length_at_every_boundary() {
    for bits in 0..64 {
        for value in [1u64 << bits, (1u64 << bits) - 1, (1u64 << bits) + 1] {
            let bytes = round_trip(&value);
            let needed = (64 - value.leading_zeros()).max(1).div_ceil(7) as usize;
            assert_eq!(bytes.len(), needed, "{value:#x}");
            // Postcard writes the same varint, so either reads the other.
            assert_eq!(bytes, postcard::to_allocvec(&value).unwrap(), "{value:#x}");
        }
    }
    round_trip(&u64::MAX);
    for value in [0i64, -1, 1, i64::MIN, i64::MAX, -1_772_445_600_000] {
        round_trip(&value);
    }
}

#[test]
fn short_slices_of_every_length_are_appended_whole() {
    let data: Vec<u8> = (1..=SHORT as u8 + 1).collect();
    for n in 0..=data.len() {
        let mut out = vec![0xAA];
        extend_short(&mut out, &data[..n.min(SHORT)]);
        assert_eq!(out[0], 0xAA);
        assert_eq!(&out[1..], &data[..n.min(SHORT)], "length {n}");
    }
}

#[test]
fn bad_bytes_are_errors_that_say_why() {
    let names = NameTable::new(vec![(1, "auditd".to_string())]).unwrap();
    let err = |bytes: &[u8]| unpacked::<Option<Box<str>>>(bytes, &names).unwrap_err();
    assert_eq!(err(&[]).to_string(), "value ends early");
    assert_eq!(err(&[2]).to_string(), "unknown tag 2");
    assert_eq!(
        err(&[1, 200, 1]).to_string(),
        "length 200 past the end of the value"
    );
    assert_eq!(err(&[1, 2, 0xff, 0xfe]).to_string(), "text is not UTF-8");
    let err = unpacked::<Sym>(&[7], &names).unwrap_err().to_string();
    assert_eq!(err, "name #7 is not in the snapshot's table of names");
    assert_eq!(unpacked::<Sym>(&[1], &names).unwrap().as_str(), "auditd");
    let err = unpacked::<u64>(&[0xff; 11], &names).unwrap_err();
    assert_eq!(err, PackError::TooLarge);
    let err = unpacked::<u16>(&[0x80, 0x80, 0x04], &names).unwrap_err();
    assert_eq!(err, PackError::OutOfRange);
    // A list may not claim more items than there are bytes left.
    let err = unpacked::<Vec<u64>>(&[0xff, 0xff, 0xff, 0xff, 0x0f], &names).unwrap_err();
    assert_eq!(err, PackError::PastEnd(0xffff_ffff));
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9/_.-]{0,24}",
        any::<String>(),
        "[a-z ]{17,80}".prop_map(String::from),
    ]
}

fn name() -> impl Strategy<Value = Sym> {
    prop_oneof!["[a-z]{1,6}", "host-[0-9]{1,3}", any::<String>()].prop_map(|t| Sym::new(&t))
}

fn boxed() -> impl Strategy<Value = Option<Box<str>>> {
    proptest::option::of(text().prop_map(Box::from))
}

fn endpoint() -> impl Strategy<Value = StoredEndpoint> {
    (
        proptest::option::of(prop_oneof![
            any::<[u8; 4]>().prop_map(IpAddr::from),
            any::<[u8; 16]>().prop_map(IpAddr::from),
        ]),
        any::<Option<u16>>(),
        proptest::option::of(name()),
    )
        .prop_map(|(ip, port, hostname)| StoredEndpoint { ip, port, hostname })
}

fn detail() -> impl Strategy<Value = Detail> {
    let sym = || proptest::option::of(name());
    prop_oneof![
        (sym(), sym(), boxed(), sym()).prop_map(|(name, path, command_line, parent_name)| {
            Detail::Process {
                name,
                path,
                command_line,
                parent_name,
            }
        }),
        (text(), sym(), any::<Option<u64>>()).prop_map(|(path, process_name, size)| {
            Detail::File {
                path: path.into(),
                process_name,
                size,
            }
        }),
        (endpoint(), boxed(), any::<Option<u64>>(), sym()).prop_map(
            |(dst, url, bytes, process_name)| Detail::Network {
                dst,
                url,
                bytes,
                process_name,
            }
        ),
        (boxed(), boxed(), boxed(), any::<Option<u64>>()).prop_map(
            |(url, query, resource, bytes)| Detail::Data {
                url,
                query,
                resource,
                bytes,
            }
        ),
    ]
}

fn evidence() -> impl Strategy<Value = StoredEvidence> {
    (
        (any::<u8>(), any::<u8>(), any::<i64>(), name(), text()),
        (
            proptest::option::of(name()),
            proptest::option::of(name()),
            any::<Option<u32>>(),
            detail(),
        ),
    )
        .prop_map(
            |((leg, class, time, source, id), (device, user, pid, detail))| StoredEvidence {
                leg,
                class,
                time,
                source,
                id: id.into(),
                device,
                user,
                pid,
                detail,
            },
        )
}

fn ledger() -> impl Strategy<Value = EvidenceLedger> {
    proptest::collection::vec((any::<u64>(), evidence()), 0..5).prop_map(|items| {
        let mut ledger = EvidenceLedger::new();
        for (key, item) in items {
            let (leg, time, id) = (item.leg, item.time, item.id.clone());
            ledger.add(key, leg, time, &id, 2, || item);
        }
        ledger
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn evidence_and_ledgers_round_trip(ledger in ledger(), extra in evidence()) {
        round_trip(&ledger);
        round_trip(&extra);
        round_trip(&(Some(extra.time), vec![ledger.clone(), ledger]));
    }

    /// Any damage to packed bytes (cut short, a byte changed, bytes
    /// added) decodes to an error or to some value: never a panic.
    #[test]
    fn damaged_bytes_never_panic(
        ledger in ledger(),
        cut in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        tail in proptest::collection::vec(any::<u8>(), 0..4),
    ) {
        let (bytes, names) = packed(&ledger);
        let cut = cut.index(bytes.len() + 1);
        prop_assert!(cut == bytes.len() || unpacked::<EvidenceLedger>(&bytes[..cut], &names).is_err());
        if !bytes.is_empty() {
            let mut changed = bytes.clone();
            changed[at.index(bytes.len())] = byte;
            let mut input = Unpacker::new(&changed, &names);
            let _ = input.get::<EvidenceLedger>();
        }
        let mut longer = bytes.clone();
        longer.extend_from_slice(&tail);
        let mut input = Unpacker::new(&longer, &names);
        prop_assert_eq!(input.get::<EvidenceLedger>(), Ok(ledger));
        prop_assert_eq!(input.remaining(), tail.len());
    }
}

/// Varints read from the middle of a buffer (eight bytes or more left: the
/// one-word path) give the same values as at its end (the byte loop).
#[test]
fn varints_read_alike_with_bytes_after_them() {
    let names = NameTable::new(Vec::new()).unwrap();
    let mut values: Vec<u64> = (0..64)
        .flat_map(|bits| [1u64 << bits, (1u64 << bits) - 1, (1u64 << bits) + 1])
        .collect();
    values.extend([u64::MAX, 1_772_445_600_000 << 1]);
    for value in values {
        for filler in [0x00u8, 0x7f, 0x80, 0xff] {
            let mut bytes = postcard::to_allocvec(&value).unwrap();
            let len = bytes.len();
            bytes.extend([filler; 9]);
            let mut input = Unpacker::new(&bytes, &names);
            assert_eq!(input.u64(), Ok(value), "{value:#x} then {filler:#x}");
            assert_eq!(input.remaining(), 9, "{value:#x} is {len} bytes");
        }
    }
    // Continuation bits all through a long buffer: too large, not a value.
    let mut input = Unpacker::new(&[0xff; 12], &names);
    assert_eq!(input.u64(), Err(PackError::TooLarge));
}

proptest! {
    /// State keys are written by serde (postcard) and read back by
    /// [`UnpackKey`]: the two agree.
    #[test]
    fn keys_read_back_as_postcard_wrote_them(
        host in "\\PC{0,24}",
        user in "\\PC{0,24}",
        number in any::<u64>(),
        small in any::<u32>(),
        signed in any::<i64>(),
        byte in any::<u8>(),
    ) {
        let names = NameTable::new(Vec::new()).unwrap();
        let key = (host.as_str(), user.as_str());
        let bytes = crate::codec::encode(&key).unwrap();
        let mut input = Unpacker::new(&bytes, &names);
        prop_assert_eq!(<(&str, &str)>::unpack_key(&mut input), Ok(key));
        prop_assert_eq!(input.remaining(), 0);

        let bytes = crate::codec::encode(&(host.clone(), (number, small), (signed, byte))).unwrap();
        let mut input = Unpacker::new(&bytes, &names);
        type Mixed = (String, ((u64, u32), (i64, u8)));
        prop_assert_eq!(
            Mixed::unpack_key(&mut input),
            Ok((host.clone(), ((number, small), (signed, byte))))
        );
        prop_assert_eq!(input.remaining(), 0);

        let bytes = crate::codec::encode(&Sym::new(&host)).unwrap();
        let mut input = Unpacker::new(&bytes, &names);
        prop_assert_eq!(Sym::unpack_key(&mut input).map(|sym| sym.to_string()), Ok(host));
    }
}
