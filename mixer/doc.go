// Package mixer is the conference mixer: a Room mixes its participants'
// PCM on one 20 ms clock, at 16 or 48 kHz inside, and gives each
// participant the mix of the others (N-1) at its own rate.
//
// The room does not own a clock or a socket: its owner (the conference
// service) calls Tick every 20 ms from the engine's playout clock, feeds
// each participant's decoded, loss-concealed PCM into Participant.Write
// from the leg's PCM tap, and takes the mix from an Output callback (or
// Participant.Read) to the leg's encoder.
//
//	tap (any goroutine)            Room.Tick (the room's clock goroutine)
//	───────────────────            ───────────────────────────────────────────────
//	Write(pcm, rate) ─► input ring ─► pull 20 ms ─► VAD + level ─► pick K talkers
//	                  (100 ms, drops       │ (dry or muted:           │
//	                   oldest)             │  contributes nothing)    ▼
//	                                       └──────────────► Resampler ─► room rate
//	                                                                  │
//	                                        sum (int32) of the K talkers
//	                                                                  │
//	        not mixed: clip(sum) ◄────────────────────────────────────┤
//	        (and the room's Tap, if set: a recording of the room)     │
//	        mixed:     clip(sum - own) ◄──────────────────────────────┘
//	                       │
//	                       ▼ Resampler (room -> participant rate)
//	               Output(pcm) callback, or output ring (100 ms) ─► Read(dst)
//
// Talkers: each participant's input goes through a codecs.VAD (with its
// hangover) at the input rate. Up to Config.MaxTalkers (default 3)
// participants are mixed: those the VAD finds talking, loudest first,
// then the loudest others above the VAD's minimum level (a steady sound
// such as music stays in the mix after the VAD has taken it for
// background); a participant already mixed keeps a 3 dB advantage. Only
// mixed participants are resampled to the room rate and subtracted, so a
// tick costs O(N) cheap steps plus O(K) mixing: cost stays flat as rooms
// grow. Everyone who is not mixed hears the same clip(sum).
//
// Membership: Join and Leave queue the change; the next Tick applies it
// and emits EventJoin / EventLeave, then EventEmpty when the last one
// left. Talk changes come as EventTalkStart / EventTalkStop. Events are
// delivered on the Tick goroutine after the frame is mixed, with no lock
// held. Per-participant DSP state (VAD, resamplers) is touched only by
// Tick (and by Close, on the same goroutine after the last Tick), so it
// needs no lock. Tick does not allocate in steady state.
//
// # Lock order
//
// Room.mu guards the pending join/leave lists and the count; each
// Participant has inMu (its input ring) and outMu (its output ring). All
// three are leaves: no code holds two of them at once, and no callback
// (Events, Output) runs with any of them held.
package mixer
