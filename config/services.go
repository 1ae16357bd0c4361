package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Built-in services, recording and music on hold: the keys of the
// services: section, the route targets that answer a call inside
// Switchboard, and the per route / user / trunk policy (recording, hold).

// Route targets answered by Switchboard itself (Route.To).
const (
	// RouteEcho returns what the caller sends (the quick start's first call).
	RouteEcho = "echo"
	// RouteTone plays a test tone (Route.ToneHz, default services.tone_hz).
	RouteTone = "tone"
	// RoutePlayback plays a WAV file (Route.File) and hangs up at its end.
	RoutePlayback = "playback"
	// RouteConference joins the conference room named by the dialled
	// number (after rewrite).
	RouteConference = "conference"
)

// IsService reports whether a route target is answered by Switchboard.
func IsService(to string) bool {
	switch to {
	case RouteEcho, RouteTone, RoutePlayback, RouteConference:
		return true
	}
	return false
}

// Recording and hold policies (CallPolicy).
const (
	RecordNone = "none"
	RecordAll  = "all"
	// HoldRelay passes a hold on to the other leg (re-INVITE), the default.
	HoldRelay = "relay"
	// HoldMOH answers a hold itself and plays services.moh to the held party.
	HoldMOH = "moh"
)

// Services configures the built-in media services, call recording and
// music on hold.
type Services struct {
	// Recordings is the directory recordings are written to (default
	// var/recordings); files are 0600, the directory 0700.
	Recordings string `yaml:"recordings"`
	// RecordingRate is the recordings' sample rate: 8000 (default) or 16000.
	RecordingRate int `yaml:"recording_rate"`
	// RecordingFormat is the recordings' format: wav (16-bit PCM, the
	// default) or ogg (Ogg/Opus, stereo, about a tenth of the size).
	RecordingFormat string `yaml:"recording_format"`
	// RecordingDTMFStart and RecordingDTMFStop, when set, are the DTMF
	// codes (e.g. "*1" and "*2") either party of a call keys to start and
	// stop its recording (RFC 4733, SIP INFO or in-band alike); empty: no
	// code. Setting them processes every call's media, so digits are seen.
	RecordingDTMFStart string `yaml:"recording_dtmf_start"`
	RecordingDTMFStop  string `yaml:"recording_dtmf_stop"`
	// MOH is the WAV file (16-bit PCM, any rate, mono or stereo) played,
	// looped, to a held party where hold: moh applies.
	MOH string `yaml:"moh"`
	// ToneHz is the frequency of the tone service (default 1000).
	ToneHz int `yaml:"tone_hz"`
	// ConferencePIN, when set, is asked of every conference participant
	// (entered by DTMF, ended by #); empty: no PIN. Use ${ENV}.
	ConferencePIN string `yaml:"conference_pin"`
	// ConferenceRate is the rooms' mixing rate: 16000 (default) or 48000.
	ConferenceRate int `yaml:"conference_rate"`
}

// Defaults of the services: section.
const (
	DefaultRecordingsDir = "var/recordings"
	DefaultToneHz        = 1000
)

// CallPolicy is what a route, user or trunk asks of the calls it takes
// part in. A call is recorded when any of them says recording: all, and
// its holds get music on hold when any says hold: moh.
type CallPolicy struct {
	// Recording is none (default) or all.
	Recording string `yaml:"recording"`
	// Hold is relay (default) or moh.
	Hold string `yaml:"hold"`
}

// ServiceOptions are a service route's own keys.
type ServiceOptions struct {
	// File is the WAV file of to: playback.
	File string `yaml:"file"`
	// ToneHz is the frequency of to: tone (default services.tone_hz).
	ToneHz int `yaml:"tone_hz"`
}

func (c *Config) applyServiceDefaults() {
	s := &c.Services
	if s.Recordings == "" {
		s.Recordings = DefaultRecordingsDir
	}
	setInt(&s.RecordingRate, 8000)
	if s.RecordingFormat == "" {
		s.RecordingFormat = "wav"
	}
	setInt(&s.ToneHz, DefaultToneHz)
	setInt(&s.ConferenceRate, 16000)
}

// services validates the services: section and every policy.
func (v *validator) services() {
	s := &v.c.Services
	if s.RecordingRate != 8000 && s.RecordingRate != 16000 {
		v.errf("services.recording_rate", "want 8000 or 16000, got %d", s.RecordingRate)
	}
	v.oneOf("services.recording_format", s.RecordingFormat, "wav", "ogg")
	v.recordingCodes()
	if s.ConferenceRate != 16000 && s.ConferenceRate != 48000 {
		v.errf("services.conference_rate", "want 16000 or 48000, got %d", s.ConferenceRate)
	}
	if s.ToneHz < 50 || s.ToneHz > 3900 {
		v.errf("services.tone_hz", "want 50..3900 Hz (within G.711's band), got %d", s.ToneHz)
	}
	if strings.Trim(s.ConferencePIN, "0123456789") != "" {
		v.errf("services.conference_pin", "must be digits only (entered by DTMF)")
	}
	moh := s.MOH != ""
	if moh {
		v.wavFile("services.moh", s.MOH)
	}
	check := func(key string, p CallPolicy) {
		if p.Recording != "" {
			v.oneOf(key+".recording", p.Recording, RecordNone, RecordAll)
		}
		if p.Hold != "" {
			v.oneOf(key+".hold", p.Hold, HoldRelay, HoldMOH)
		}
		if p.Hold == HoldMOH && !moh {
			v.errf(key+".hold", "hold: moh needs services.moh (a WAV file)")
		}
	}
	for i, r := range v.c.Routes {
		key := fmt.Sprintf("routes[%d]", i)
		check(key, r.Policy)
		switch {
		case r.To == RoutePlayback:
			if r.Service.File == "" {
				v.errf(key+".file", "required for to: playback: a WAV file")
			} else {
				v.wavFile(key+".file", r.Service.File)
			}
		case r.Service.File != "":
			v.errf(key+".file", "only applies to to: playback")
		}
		switch {
		case r.To == RouteTone && r.Service.ToneHz != 0 && (r.Service.ToneHz < 50 || r.Service.ToneHz > 3900):
			v.errf(key+".tone_hz", "want 50..3900 Hz, got %d", r.Service.ToneHz)
		case r.To != RouteTone && r.Service.ToneHz != 0:
			v.errf(key+".tone_hz", "only applies to to: tone")
		}
	}
	for i, u := range v.c.Users {
		check(fmt.Sprintf("users[%d]", i), u.Policy)
	}
	for i, t := range v.c.Trunks {
		check(fmt.Sprintf("trunks[%d]", i), t.Policy)
	}
}

// wavFile checks that path names a readable RIFF/WAVE file.
func (v *validator) wavFile(key, path string) {
	f, err := os.Open(path)
	if err != nil {
		v.errf(key, "%v", err)
		return
	}
	defer f.Close()
	h := make([]byte, 12)
	if n, _ := f.Read(h); n < 12 || string(h[:4]) != "RIFF" || string(h[8:]) != "WAVE" {
		v.errf(key, "%s is not a WAV file", filepath.Base(path))
	}
}
