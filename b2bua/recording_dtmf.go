package b2bua

import (
	"strings"
)

// Recording by DTMF code: with services.recording_dtmf_start / _stop set,
// either party of a two-party call keys a code to start or stop the
// call's recording. Every digit of a leg, however it came (RFC 4733
// events, SIP INFO, in-band tones: call_dtmf.go), passes recordDigit,
// which hands it here:
//
//	recordDigit ─► recordingKey: the leg's last keys end with
//	                 start code ─► toggleRecording(true)  (recording_ondemand.go)
//	                 stop code  ─► toggleRecording(false)
//
// The digits still reach the far party and the CDR as any others. A
// relayed call keeps its relay: it reads the RFC 4733 events it passes on
// (media/relay_digits.go); only a call where neither leg negotiated
// telephone-event is processed while codes are configured, so that its
// in-band tones are heard (configureMedia). One recording per call, as on
// demand.

// recordingKeys is a call's last keys per leg (a, b), for matching codes.
type recordingKeys [2][]byte

// recordingCodes returns the configured start and stop codes (upper case).
func (c *Call) recordingCodes() (start, stop string) {
	s := c.host.currentPolicy().cfg.Services
	return strings.ToUpper(s.RecordingDTMFStart), strings.ToUpper(s.RecordingDTMFStop)
}

// recordingByDTMF reports whether codes are configured.
func (c *Call) recordingByDTMF() bool {
	start, stop := c.recordingCodes()
	return start != "" || stop != ""
}

// recordingKey takes a key of leg from; a start or stop code ending with
// it toggles the call's recording.
func (c *Call) recordingKey(from *Leg, key byte) {
	start, stop := c.recordingCodes()
	if start == "" && stop == "" || c.svc != nil {
		return
	}
	i := 0
	if from == c.b {
		i = 1
	}
	if key >= 'a' && key <= 'd' {
		key -= 'a' - 'A'
	}
	keys := append(c.recKeys[i], key)
	if n := len(keys) - 8; n > 0 {
		keys = keys[n:]
	}
	c.recKeys[i] = keys
	on := false
	switch typed := string(keys); {
	case start != "" && strings.HasSuffix(typed, start):
		on = true
	case stop != "" && strings.HasSuffix(typed, stop):
	default:
		return
	}
	c.recKeys[i] = keys[:0]
	if err := c.toggleRecording(on); err != nil {
		c.log.Info("recording code refused", "leg", from.Name, "start", on, "error", err)
		return
	}
	c.log.Info("recording toggled by DTMF code", "leg", from.Name, "start", on, "file", c.rec.Recording)
}
