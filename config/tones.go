package config

import (
	"fmt"
	"time"
)

// The tone plan and failure announcements: what a caller hears from
// Switchboard itself before a call's final response (tones: section).
//
//	tones:
//	  busy: {frequencies: [425], cadence: [500ms, 500ms]}
//	  failures:
//	    - {status: 404, file: not-found.wav}
//	    - {status: 486, tone: busy, duration: 3s}

// Tone names of the plan (Tones, FailureMedia.Tone).
const (
	ToneRingback   = "ringback"
	ToneBusy       = "busy"
	ToneCongestion = "congestion"
)

// Tones is the tone plan (default ITU-T E.180 / European: 425 Hz) and
// the early media played on failures.
type Tones struct {
	// Ringback, Busy and Congestion are the plan's tones; a tone left out
	// keeps its default (ringback 1 s on 4 s off, busy 0.5/0.5,
	// congestion 0.25/0.25, all 425 Hz).
	Ringback   ToneSpec `yaml:"ringback"`
	Busy       ToneSpec `yaml:"busy"`
	Congestion ToneSpec `yaml:"congestion"`
	// LocalRingback, when true, answers a callee's 180 without SDP with a
	// 183 carrying Switchboard's SDP and plays Ringback to the caller
	// until the callee answers (or sends its own early media, or fails).
	LocalRingback bool `yaml:"local_ringback"`
	// Failures maps a final failure status to what the caller hears
	// first, as early media (183 with SDP), before the response itself.
	Failures []FailureMedia `yaml:"failures"`
}

// ToneSpec is one tone of the plan.
type ToneSpec struct {
	// Frequencies are summed (e.g. [350, 440] for the North American
	// dial tone); 1 to 4 of 50-3900 Hz.
	Frequencies []int `yaml:"frequencies"`
	// Cadence alternates on and off times, starting with on (e.g.
	// [1s, 4s]); empty: continuous.
	Cadence []time.Duration `yaml:"cadence"`
}

// FailureMedia is the early media of one failure status.
type FailureMedia struct {
	// Status is the final status (400-699) sent to the caller.
	Status int `yaml:"status"`
	// File is a WAV announcement (16-bit PCM, any rate), played once.
	File string `yaml:"file"`
	// Tone is a tone of the plan (busy, congestion or ringback), played
	// for Duration; exactly one of File and Tone.
	Tone string `yaml:"tone"`
	// Duration is how long Tone plays (default 3s); a File plays to its
	// end, cut at Duration when set.
	Duration time.Duration `yaml:"duration"`
}

// Defaults of the tone plan.
const DefaultFailureTone = 3 * time.Second

// DefaultTone returns the plan's default for a tone name (ITU-T E.180
// Supplement 2, the European values).
func DefaultTone(name string) ToneSpec {
	switch name {
	case ToneRingback:
		return ToneSpec{Frequencies: []int{425}, Cadence: []time.Duration{time.Second, 4 * time.Second}}
	case ToneBusy:
		return ToneSpec{Frequencies: []int{425}, Cadence: []time.Duration{500 * time.Millisecond, 500 * time.Millisecond}}
	case ToneCongestion:
		return ToneSpec{Frequencies: []int{425}, Cadence: []time.Duration{250 * time.Millisecond, 250 * time.Millisecond}}
	}
	return ToneSpec{}
}

// Tone returns the plan's tone of name (its configured value or default).
func (t *Tones) Tone(name string) ToneSpec {
	var s ToneSpec
	switch name {
	case ToneRingback:
		s = t.Ringback
	case ToneBusy:
		s = t.Busy
	case ToneCongestion:
		s = t.Congestion
	}
	if len(s.Frequencies) == 0 {
		return DefaultTone(name)
	}
	return s
}

// Failure returns the early media configured for a final status, if any.
func (t *Tones) Failure(status int) (FailureMedia, bool) {
	for _, f := range t.Failures {
		if f.Status == status {
			return f, true
		}
	}
	return FailureMedia{}, false
}

// tones validates the tones: section.
func (v *validator) tones() {
	t := &v.c.Tones
	for _, k := range []struct {
		key  string
		spec ToneSpec
	}{{"tones.ringback", t.Ringback}, {"tones.busy", t.Busy}, {"tones.congestion", t.Congestion}} {
		if len(k.spec.Frequencies) == 0 && len(k.spec.Cadence) == 0 {
			continue
		}
		if n := len(k.spec.Frequencies); n < 1 || n > 4 {
			v.errf(k.key+".frequencies", "want 1 to 4 frequencies, got %d", n)
		}
		for _, f := range k.spec.Frequencies {
			if f < 50 || f > 3900 {
				v.errf(k.key+".frequencies", "want 50..3900 Hz (within G.711's band), got %d", f)
			}
		}
		for _, d := range k.spec.Cadence {
			if d < 20*time.Millisecond {
				v.errf(k.key+".cadence", "each on or off time at least 20ms, got %s", d)
			}
		}
	}
	seen := map[int]bool{}
	for i, f := range t.Failures {
		key := fmt.Sprintf("tones.failures[%d]", i)
		if f.Status < 400 || f.Status > 699 {
			v.errf(key+".status", "want a failure status 400-699, got %d", f.Status)
		}
		if seen[f.Status] {
			v.errf(key+".status", "status %d listed twice", f.Status)
		}
		seen[f.Status] = true
		switch {
		case (f.File == "") == (f.Tone == ""):
			v.errf(key, "want exactly one of file and tone")
		case f.File != "":
			v.wavFile(key+".file", f.File)
		default:
			v.oneOf(key+".tone", f.Tone, ToneRingback, ToneBusy, ToneCongestion)
		}
		if f.Duration < 0 || f.Duration > time.Minute {
			v.errf(key+".duration", "want 0..1m, got %s", f.Duration)
		}
	}
}
