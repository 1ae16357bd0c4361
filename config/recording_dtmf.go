package config

import "strings"

// dtmfKeys are the keys a DTMF code may use (RFC 4733 §3.2 events 0-15).
const dtmfKeys = "0123456789*#ABCD"

// maxDTMFCode is the longest DTMF code accepted.
const maxDTMFCode = 8

// recordingCodes validates services.recording_dtmf_start and _stop:
// DTMF keys only, at most maxDTMFCode of them, distinct, and neither the
// end of the other (a call keying one must not also match the other).
func (v *validator) recordingCodes() {
	s := &v.c.Services
	for _, k := range []struct{ key, code string }{
		{"services.recording_dtmf_start", s.RecordingDTMFStart},
		{"services.recording_dtmf_stop", s.RecordingDTMFStop},
	} {
		switch {
		case k.code == "":
		case strings.Trim(strings.ToUpper(k.code), dtmfKeys) != "":
			v.errf(k.key, "must be DTMF keys only (0-9 * # A-D), got %q", k.code)
		case len(k.code) > maxDTMFCode:
			v.errf(k.key, "at most %d keys, got %d", maxDTMFCode, len(k.code))
		}
	}
	a, b := strings.ToUpper(s.RecordingDTMFStart), strings.ToUpper(s.RecordingDTMFStop)
	if a != "" && b != "" && (strings.HasSuffix(a, b) || strings.HasSuffix(b, a)) {
		v.errf("services.recording_dtmf_stop", "must differ from recording_dtmf_start and neither may end with the other (%q, %q)", s.RecordingDTMFStart, s.RecordingDTMFStop)
	}
}
