//! Runs a future to completion on the calling thread.
//!
//! Every port the simulator hands the gate answers at once (the fakes never wait), so a future
//! is driven by polling it until it is ready; no runtime, no threads, no timers: a run is a pure
//! function of its seed.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        // Nothing the simulator runs ever waits on a wakeup; yielding keeps a future that
        // polls itself again from spinning the core while it does.
        std::thread::yield_now();
    }
}
