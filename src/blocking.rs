//! Blocking calls from any thread, the one place that decides where they wait.
//!
//! The default transport's blocking calls drive a runtime of their own, and tokio
//! panics when a thread already inside a runtime starts driving another. So when a
//! tokio runtime is current (a worker thread, `spawn_blocking`, `block_in_place`)
//! the call runs on a short-lived helper thread that belongs to no runtime, and the
//! calling thread waits for it; otherwise it runs right here. Either way the calling
//! thread is held for the length of the call: in async code the `_async` verbs are
//! the ones to use.

use bytes::Bytes;

use crate::error::{Error, TransportKind};

/// Chunks in flight between the helper thread and a sink on the calling thread.
const CHUNKS_IN_FLIGHT: usize = 8;

/// Runs `call`, on a helper thread when a tokio runtime is current.
pub(crate) fn off_runtime<T: Send>(
    call: impl FnOnce() -> Result<T, Error> + Send,
) -> Result<T, Error> {
    if tokio::runtime::Handle::try_current().is_err() {
        return call();
    }
    std::thread::scope(|scope| {
        let helper = std::thread::Builder::new()
            .name("wechatpay-blocking".into())
            .spawn_scoped(scope, call)
            .map_err(cannot_spawn)?;
        join(helper)
    })
}

/// Runs `call`, which hands the answer's body to the sink it is given, on a
/// helper thread when a tokio runtime is current. `sink` always runs on the calling
/// thread (it need not be `Send`): the chunks travel back over a bounded channel,
/// and a failing sink stops the transfer.
pub(crate) fn off_runtime_into<T: Send>(
    call: impl FnOnce(&mut dyn FnMut(&[u8]) -> Result<(), Error>) -> Result<T, Error> + Send,
    sink: &mut dyn FnMut(&[u8]) -> Result<(), Error>,
) -> Result<T, Error> {
    if tokio::runtime::Handle::try_current().is_err() {
        return call(sink);
    }
    let (tx, rx) = std::sync::mpsc::sync_channel::<Bytes>(CHUNKS_IN_FLIGHT);
    std::thread::scope(|scope| {
        let helper = std::thread::Builder::new()
            .name("wechatpay-blocking".into())
            .spawn_scoped(scope, move || {
                call(&mut |chunk: &[u8]| {
                    tx.send(Bytes::copy_from_slice(chunk))
                        .map_err(|_| Error::Transport {
                            kind: TransportKind::Other,
                            source: "the download was stopped by its writer".into(),
                        })
                })
            })
            .map_err(cannot_spawn)?;
        let mut refused = None;
        while let Ok(chunk) = rx.recv() {
            if let Err(e) = sink(&chunk) {
                refused = Some(e);
                break;
            }
        }
        // The helper's next send fails, which ends its transfer.
        drop(rx);
        let outcome = join(helper);
        match refused {
            Some(e) => Err(e),
            None => outcome,
        }
    })
}

fn join<T>(helper: std::thread::ScopedJoinHandle<'_, Result<T, Error>>) -> Result<T, Error> {
    // A panic on the helper is the caller's panic, as if the call had run here.
    helper
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

fn cannot_spawn(e: std::io::Error) -> Error {
    Error::Transport {
        kind: TransportKind::Other,
        source: format!("cannot start a thread for a blocking call inside an async runtime ({e})")
            .into(),
    }
}
