// Package recorder records a two-party call as a stereo WAV or Ogg/Opus
// file (caller left, callee right; sink.go, ogg.go) with a JSON metadata
// sidecar, without ever blocking the media path.
//
//	caller tap ─► Left().Write(pcm, rate, at) ─┐  (never blocks; full queue:
//	callee tap ─► Right().Write(pcm, rate, at) ┤   frame dropped and counted)
//	                                           ▼
//	                        bounded queue of pooled frames (Config.Queue)
//	                                           │  one writer goroutine per file
//	                                           ▼
//	  Resampler (per side, to 8 or 16 kHz) ─► timeline by timestamp (gaps silent,
//	  a side 200 ms behind the other silent) ─► interleave ─► sink.write
//	                                   (WAV: PCM bytes; Ogg: Opus frames, a page each)
//	                                           │  every HeaderEvery of audio:
//	                                           ▼  header sizes rewritten (WriteAt)
//	         Close: drain, final header, sidecar {status complete|cut}, wait
//
// Crash safety: the header's sizes trail the data by at most HeaderEvery
// (default 1 s), so a SIGKILL leaves a file that plays up to about a
// second before the kill; Repair, run at start on unfinished files, sets
// the sizes from the file length and marks the sidecar cut. A disk error
// cuts the recording (status "cut", CutReason) and the queue keeps being
// drained and counted, so callers never notice. Files and sidecars are
// 0600; the sidecar is replaced atomically (renameio).
//
// # Lock order
//
// Recorder.mu (a RWMutex) is the only lock: Write holds it shared while it
// sends, Close exclusively while it closes the queue. Everything else is
// owned by the writer goroutine or atomic.
package recorder
