// Package jitter is the adaptive jitter and reorder buffer of the media
// processing path: RTP packets go in as they arrive, and one frame (or the
// reason there is none) comes out per playout tick, for the decoder to play
// or conceal.
//
//	socket reader                                    playout ticker (20 ms)
//	     │ Push(hdr, payload, arrival)                     │ Pop(now)
//	     ▼                                                 ▼
//	┌─ classify ────────────────────────┐   ┌─ playout ───────────────────────┐
//	│ new SSRC / seq or ts jump ─► held │   │ target ◄── quantile, held 2 s   │
//	│   (confirmed by the next packet,  │   │ delay = now − baseline − playTS │
//	│    or adopted when the stream     │   │ frame due? ─► Frame             │
//	│    runs dry) ─► rebase            │   │ seq gap?   ─► Missing | Expand  │
//	│ duplicate ─► discard              │   │ ts gap (DTX), underrun after    │
//	│ slot passed ─► late discard       │   │   MaxConceal ─► Empty           │
//	└──────┬────────────────────────────┘   │ delay high ─► drop a frame      │
//	       │ d = arrival − ts               │ delay low  ─► wait (Expand or   │
//	       ▼                                │   Empty in silence)             │
//	  estimator: fastest-packet baseline ──►│                                 │
//	  (drift-corrected), relative delay r,  └────────────┬────────────────────┘
//	  histogram of r ─► quantile                         │ Result
//	       │                                             ▼
//	       └─ ring of slots by extended seq ───► decoder: Frame → decode,
//	          (payload copied, preallocated)     Missing/Expand → PLC, Empty → CN
//
// # Timeline
//
// Sequence numbers and timestamps are extended to 64 bits by the signed
// 16- and 32-bit difference from the highest packet so far (RFC 3550 A.1),
// so both wrap freely. Packets sit in a ring indexed by extended sequence
// number. The frame to play next is identified by timestamp (playTS); each
// Pop moves playTS on by one frame duration, except when the buffer waits.
// A sequence gap before the next buffered packet is loss (Missing); a
// timestamp gap without a sequence gap is silence (Empty), so DTX is never
// counted as loss. Stats.Lost is expected minus received, per RFC 3550 A.3.
//
// # Delay estimation
//
// Each packet gives d = arrival − timestamp (in clock units). Relative to
// the fastest packet of the last second, r = d − min(d) ≥ 0 is how much
// later than the best case the packet came; r is computed when it arrives,
// so a clump of early packets does not count as late. The r values go into
// a histogram (buckets of an eighth of a frame, up to MaxDelay) with
// exponential forgetting: the first packets are averaged evenly, later
// ones weigh 0.2 % each. The target delay is the Quantile of that
// histogram (0.95 by default), held at its highest value for two seconds,
// within [MinDelay, MaxDelay]. This is the approach of WebRTC's NetEq
// (relative delay to the fastest packet, a quantile of a forgetting
// histogram).
//
// A sender clock that is slow makes d creep up, so a plain window minimum
// lags by the drift over the window and packets overtake the target; a
// fast one makes the buffer fill. The estimator measures the drift as the
// median slope between the minima of one-second blocks (a delay step or a
// burst pattern moves one or two slopes, drift moves them all) and works
// on d − drift·t.
//
// The current delay is how far playout lags the baseline:
// delay = (now − baseline) − playTS. A frame is present at its tick exactly
// when delay ≥ its r, so keeping delay ≥ target keeps the late share under
// 1 − Quantile.
//
// # Adapting the delay
//
// The buffer changes its delay only by whole frames, at the cheapest point:
//
//   - Growing (delay < target) happens while there is nothing to play
//     anyway: on an underrun or a sequence gap the buffer waits a tick
//     (Expand, concealed by the caller, nothing lost) instead of skipping;
//     in silence it waits silently (Empty); before a frame with the marker
//     bit (start of a talkspurt, RFC 3551 §4.1) it inserts silent ticks.
//     Growth is quick because the target follows new late packets within a
//     few dozen packets and is held for two seconds.
//   - Shrinking (delay ≥ target + one frame) is slow and prefers silence:
//     in a DTX gap the buffer skips ahead to the target at once; the frame
//     just before a talkspurt (marker bit) is dropped; frames carry Result.Accelerate so
//     that a caller with an energy measure can drop a quiet one (by calling
//     Pop again); failing all that, with two frames or more in excess, one
//     frame is dropped at most every 100/excess ticks (every second at two
//     frames), which absorbs a sender running fast. The delay never exceeds
//     MaxDelay: beyond it, frames are dropped at once.
//   - A packet whose slot has passed is discarded (Late). During an
//     underrun the first MaxConceal ticks are Missing (it may be a late or
//     lost packet), later ones Empty (it is probably silence); after a
//     comfort-noise frame (ComfortNoisePT) a gap is Empty at once.
//
// # Discontinuities
//
// A packet of another SSRC, a sequence jump beyond RFC 3550 A.1's limits
// (3000 ahead, 100 behind), sequence and timestamp moving in opposite
// directions, or a timestamp that disagrees with real time by more than
// MaxDelay (far ahead, having leapt further than the sequence number; or,
// for a new sequence number, far behind) is held, not played: one such packet is a stray, two in a row
// (RFC 3550 A.1's probation, here with the second up to four sequence
// numbers on) start a new stream, and so does a single one when the current
// stream has nothing left to play. The new stream is rebased onto the
// extended timeline right after the old one: its sequence numbers continue
// (no false loss), its timestamps start no earlier than the end of what is
// buffered and than its arrival implies. Frames of the old stream still
// buffered are played first; stragglers of the old SSRC are placed with the
// old mapping; the delay estimate carries over (same network path).
// Stats.SSRCResets and Stats.Resyncs count these.
//
// # Memory and time
//
// New allocates every slot with a payload buffer; Push copies into it, Pop
// swaps it out, so steady state allocates nothing (a slot grows once for a
// larger payload, up to MaxPayload). Time is always passed in, never read,
// so tests run on a fixed clock.
//
// # Locking
//
// One mutex, Buffer.mu, guards everything; every exported method takes it
// and calls nothing outside the package while holding it. Push and Pop may
// run on different goroutines.
//
// # Why hand-written
//
// No Go library fits. pion/interceptor's jitterbuffer is a fixed count of
// packets released in sequence order, with no notion of time, so it cannot
// adapt its delay, tell loss from silence or late from lost, or pace
// playout; pjmedia's jbuf and speexdsp's jitter buffer are C (cgo per
// packet, their own allocation and clocking) and NetEq is C++ inside
// libwebrtc with its own decoders. The stream bookkeeping (SSRC changes,
// wraps, probation) follows RFC 3550; the delay estimator follows NetEq's.
package jitter
