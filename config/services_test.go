package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServicesErrors(t *testing.T) {
	dir := t.TempDir()
	wav := filepath.Join(dir, "moh.wav")
	if err := os.WriteFile(wav, []byte("RIFF\x24\x00\x00\x00WAVEfmt "), 0o600); err != nil {
		t.Fatal(err)
	}
	notWav := filepath.Join(dir, "moh.mp3")
	if err := os.WriteFile(notWav, []byte("ID3 not a wav file"), 0o600); err != nil {
		t.Fatal(err)
	}
	user := "  - {match: '^1\\d{3}$', to: user}"
	for _, tt := range []struct {
		name, from, to, want string
	}{
		{"moh without file", user, "  - {match: '^1\\d{3}$', to: user, hold: moh}", "x.yaml:13: routes[0].hold: hold: moh needs services.moh"},
		{"bad hold", user, "  - {match: '^1\\d{3}$', to: user, hold: music}", "x.yaml:13: routes[0].hold: must be one of relay, moh"},
		{"bad recording", `password: "${PW_1000}"}`, `password: "${PW_1000}", recording: some}`, "x.yaml:7: users[0].recording: must be one of none, all"},
		{"moh not a wav", "routes:", "services:\n  moh: " + notWav + "\nroutes:", "services.moh: moh.mp3 is not a WAV file"},
		{"moh missing", "routes:", "services:\n  moh: " + filepath.Join(dir, "none.wav") + "\nroutes:", "services.moh: open"},
		{"playback without file", user, "  - {match: '^600$', to: playback}", "x.yaml:13: routes[0].file: required for to: playback"},
		{"file on a user route", user, "  - {match: '^1\\d{3}$', to: user, file: " + wav + "}", "routes[0].file: only applies to to: playback"},
		{"tone out of band", user, "  - {match: '^601$', to: tone, tone_hz: 5000}", "routes[0].tone_hz: want 50..3900 Hz"},
		{"pin not digits", "routes:", "services:\n  conference_pin: 12ab\nroutes:", "services.conference_pin: must be digits only"},
		{"recording rate", "routes:", "services:\n  recording_rate: 44100\nroutes:", "services.recording_rate: want 8000 or 16000"},
		{"recording code not dtmf", "routes:", "services:\n  recording_dtmf_start: '*x'\nroutes:", "x.yaml:13: services.recording_dtmf_start: must be DTMF keys only"},
		{"recording codes overlap", "routes:", "services:\n  recording_dtmf_start: '*1'\n  recording_dtmf_stop: '1'\nroutes:", "services.recording_dtmf_stop: must differ"},
		{"tone frequency", "routes:", "tones:\n  busy: {frequencies: [5000], cadence: [500ms, 500ms]}\nroutes:", "x.yaml:13: tones.busy.frequencies: want 50..3900 Hz"},
		{"tone cadence", "routes:", "tones:\n  ringback: {frequencies: [425], cadence: [1ms]}\nroutes:", "tones.ringback.cadence: each on or off time at least 20ms"},
		{"failure status", "routes:", "tones:\n  failures:\n    - {status: 200, tone: busy}\nroutes:", "tones.failures[0].status: want a failure status 400-699"},
		{"failure file and tone", "routes:", "tones:\n  failures:\n    - {status: 404, tone: busy, file: " + wav + "}\nroutes:", "tones.failures[0]: want exactly one of file and tone"},
		{"failure tone name", "routes:", "tones:\n  failures:\n    - {status: 486, tone: beep}\nroutes:", "tones.failures[0].tone: must be one of ringback, busy, congestion"},
		{"failure file not wav", "routes:", "tones:\n  failures:\n    - {status: 404, file: " + notWav + "}\nroutes:", "tones.failures[0].file: moh.mp3 is not a WAV file"},
		{"unknown service", user, "  - {match: '^600$', to: ecco}", `routes[0].to: want user, trunk:NAME, reject, echo, tone, playback or conference, got "ecco"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(base, tt.from, tt.to, 1)
			if src == base {
				t.Fatal("replacement did not apply")
			}
			_, err := parse("configs/x.yaml", []byte(src), env(map[string]string{"PW_1000": "x"}))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant %q", err, tt.want)
			}
		})
	}
	// And a good one: every service with its keys, MOH and recording.
	good := strings.Replace(base, "routes:", "services:\n  moh: "+wav+"\n  conference_pin: \"1234\"\nroutes:\n  - {match: '^600$', to: echo, recording: all}\n  - {match: '^601$', to: tone, tone_hz: 440}\n  - {match: '^602$', to: playback, file: "+wav+"}\n  - {match: '^3\\d{3}$', to: conference, hold: moh}", 1)
	c, err := parse("x.yaml", []byte(good), env(map[string]string{"PW_1000": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Services; s.Recordings != DefaultRecordingsDir || s.ToneHz != DefaultToneHz || s.RecordingRate != 8000 || s.ConferenceRate != 16000 {
		t.Fatalf("defaults %+v", s)
	}
}
