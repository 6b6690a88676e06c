//! An analytic's state on its way in and out of an instance, in parts: a
//! snapshot comes out in the parts the analytic hands over while it writes
//! it (`host.state-part`), and a state goes in through `restore-begin`,
//! `restore-part` and `restore-end`, from the store or straight from the
//! snapshot of the version it replaces. Neither the component nor the host
//! needs a second copy of a large state in one buffer.

use dumpwatch_runtime::{AnalyticInstance, CallError};
use dumpwatch_state::StoreView;

/// Size of the parts a stored state is restored in: large enough that a
/// call per part costs nothing next to the part, small enough that the
/// buffers of the parts in flight are reused rather than fresh memory.
const RESTORE_PART: usize = 4 << 20;

/// What [`restore_stored`] got: the analytic's answer (a refusal of the
/// state, or a failed call), and the first keys of the state, to show
/// when it is refused.
pub(crate) type Restored = (Result<Result<(), String>, CallError>, Vec<String>);

/// Restore `instance`, the analytic `id`, from the state `view` holds for
/// it. The view reads it a part at a time on a thread of its own while
/// the analytic takes the part before, so the read overlaps the analytic's
/// work rather than coming before all of it, and the host never holds the
/// whole state. A read that fails is an error before the analytic is
/// asked to conclude: it never restores part of its state.
pub fn restore_stored(
    instance: &mut AnalyticInstance,
    id: &str,
    view: &StoreView,
) -> Result<Restored, String> {
    let size = view.state_size(id).map_err(|e| e.to_string())?;
    let mut sample = Vec::new();
    let (handed, read) = std::thread::scope(|scope| {
        // One part in the channel, one being read, one being handed over.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(1);
        let reader =
            scope.spawn(move || view.frame_parts(id, RESTORE_PART, |part| tx.send(part).is_ok()));
        let parts = rx.into_iter().inspect(|part| {
            if sample.is_empty() {
                sample = dumpwatch_frames::frames(part)
                    .take(20)
                    .filter_map(Result::ok)
                    .map(|frame| String::from_utf8_lossy(frame.key).into_owned())
                    .collect();
            }
        });
        // The receiver goes with `parts`, so a failed call stops the reader.
        let handed = hand_parts(instance, size.base.saturating_add(size.changes), parts);
        (handed, reader.join())
    });
    match read {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e.to_string()),
        Err(_) => return Err(format!("reading the stored state of {id} failed")),
    }
    let answer = match handed {
        Ok(()) => instance.restore_end(),
        Err(e) => Err(e),
    };
    Ok((answer, sample))
}

/// Restore `instance` from `parts`, a snapshot as another instance handed
/// it over ([`AnalyticInstance::snapshot`]): what `restore-end` answers.
pub fn restore_snapshot(
    instance: &mut AnalyticInstance,
    parts: Vec<Vec<u8>>,
) -> Result<Result<(), String>, CallError> {
    let size = parts.iter().map(|part| part.len() as u64).sum();
    hand_parts(instance, size, parts)?;
    instance.restore_end()
}

/// Begin a restore of `size` bytes and hand over every part `parts`
/// yields; `restore-end` is left to the caller.
fn hand_parts(
    instance: &mut AnalyticInstance,
    size: u64,
    parts: impl IntoIterator<Item = Vec<u8>>,
) -> Result<(), CallError> {
    instance.restore_begin(size)?;
    for part in parts {
        instance.restore_part(&part)?;
    }
    Ok(())
}

/// A snapshot whose parts are not whole state frames is a failed call of a
/// broken or hostile module, handled like a trap; it must not reach the
/// store, where it would fail the whole checkpoint.
pub(crate) fn checked(parts: Vec<Vec<u8>>) -> Result<Vec<Vec<u8>>, CallError> {
    for (n, part) in parts.iter().enumerate() {
        if let Err(e) = dumpwatch_frames::frames(part).try_for_each(|frame| frame.map(drop)) {
            let at = match parts.len() {
                1 => String::new(),
                _ => format!(" (part {} of {})", n + 1, parts.len()),
            };
            return Err(CallError::Invalid(format!("snapshot{at}: {e}")));
        }
    }
    Ok(parts)
}
